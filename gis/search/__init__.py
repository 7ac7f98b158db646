"""The map's search: people by name or citizen ID number, within the caller's scope."""
