"""gridhouse domain core: models, codes, grids, people, imports and CRS; no HTTP, no HTML."""
