"""Read-only aggregates the pages show: divisions holding grids, figures per grid."""
