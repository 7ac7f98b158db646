"""HTTP routes, one module per domain noun; thin: validate → gis service → response model."""
