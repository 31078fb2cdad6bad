"""The store: the SQLite connection, named migration sets, the event log and consumer cursors."""
