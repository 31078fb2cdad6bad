"""Model services: the Service contract (base), the engine that runs them, their runner and
artifacts, and one module per service (categorize). See engine.py for how a run is stored."""
