"""Background jobs: the lease and health each job keeps in the database, and the worker
process that runs every job of the registry (``cityshield.jobs``)."""
