"""ingest_gate."""
