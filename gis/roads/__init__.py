"""Road centrelines: what grid suggestions follow."""
