"""gridhouse HTTP layer: routes, auth, errors; the only package that knows HTTP."""
