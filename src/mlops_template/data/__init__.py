"""Getting data in: the sample generator, the raw-file reader and ingest."""
