"""Houses: the dwelling and room units inside a building, coded with unit numbers 00001…."""
