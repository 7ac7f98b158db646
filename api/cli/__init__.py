"""The ``gridhouse`` command line: one Typer app composed of a module per job."""
