"""Benchmarks of the hub against medallion and against this machine's own ceilings."""
