"""Buildings: footprints, permanent house codes, lifecycle, lineage and re-survey."""
