"""``gridhouse code check CODE``: is a house code well formed, and what is its status."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError

from api.cli.common import console
from gis.buildings import service as buildings
from gis.codes import group_code, parse_code
from gis.db import database_url, make_engine, make_session_factory, transaction
from gis.errors import EnvironmentProblem
from gis.settings import get_settings

app = typer.Typer(help="House codes.", no_args_is_help=True)


@app.command()
def check(code: Annotated[str, typer.Argument(help="25 characters, with or without '-'")]) -> None:
    """Validate format and check character (exit 0 only when both hold); report the code's
    status when the database is reachable."""
    parsed = parse_code(code, field="CODE")
    console.print(f"{group_code(parsed.code)}: well formed, check character correct")
    kind = "building" if parsed.is_building else f"house (unit {parsed.unit:05d})"
    console.print(
        f"community {parsed.community_code}, structure class {parsed.structure_class}, "
        f"building {parsed.seq:06d}, {kind}"
    )
    try:
        url = database_url(get_settings(), start_embedded=False)
    except EnvironmentProblem:
        console.print("status: unknown (no database configured)")
        return
    engine = make_engine(url, pool_size=1)
    try:
        with transaction(make_session_factory(engine)) as session:
            status = buildings.code_status(session, code=parsed.code)
        console.print(f"status: {status or 'not issued'}")
    except OperationalError:
        console.print("status: unknown (the database cannot be reached)")
    except ProgrammingError:  # no schema yet: the code is still well formed
        console.print("status: unknown (the database has no gridhouse schema: gridhouse migrate)")
    finally:
        engine.dispose()
