"""Benchmarks: generated cities tiled from real footprints, timed against references in one run."""
