"""The STIX 2.1 vocabulary the hub enforces: what a pattern may look like and what an
observable value may be, shared by ingest validation, dedup and the exports."""
