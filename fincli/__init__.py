"""fin: a command-line personal finance toolkit on an append-only event log."""

__version__ = "0.1.0"
