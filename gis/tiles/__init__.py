"""Mapbox vector tiles of buildings, grids, roads and floating residents, built by ST_AsMVT."""
