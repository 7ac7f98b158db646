"""Exports of buildings, houses, grids, divisions and residents to GeoPackage, GeoJSON, CSV and
XLSX, filtered by the caller's scope and audited."""
