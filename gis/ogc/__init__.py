"""OGC API Features for GIS clients: collections, CRS URIs and pages of GeoJSON built in SQL."""
