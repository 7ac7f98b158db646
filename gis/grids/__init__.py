"""Grid cells: versioned polygons with 15-digit codes, topology, classes and plans."""
