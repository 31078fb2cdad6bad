"""The ledger: the core projection of the log, queries over it, and rebuild, verify and undo."""
