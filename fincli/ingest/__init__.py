"""Bank CSV import: sniff → parse → validate → dedup → events."""
