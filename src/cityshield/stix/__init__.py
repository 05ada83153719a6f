"""The STIX 2.1 vocabulary the hub speaks and enforces: TLP markings and versions
(``vocabulary``), object validation, what a pattern may look like and what an observable
value may be, and its normal form. Pure (no database): shared by ingest, the policy, the
network view and the exports."""
