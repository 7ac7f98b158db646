"""``gridhouse users add|list|disable|enable|reset|totp``: accounts, roles and jurisdictions."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from api.cli.common import cli_actor, console, errors, options_named, session_scope
from gis.errors import InvalidInput
from gis.users import service
from gis.users.credentials import totp_uri
from gis.users.models import Role

app = typer.Typer(help="Users, roles and jurisdictions.", no_args_is_help=True)

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first stdin line.")
]


def read_password(password_stdin: bool) -> str:
    """The first line of standard input (never a command-line argument: those are visible to
    every user of the machine in ``ps``)."""
    if not password_stdin:
        raise InvalidInput(
            "pass --password-stdin and the password on standard input", field="password"
        )
    line = sys.stdin.readline()
    return line.removesuffix("\n").removesuffix("\r")


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="Login name")],
    role: Annotated[Role, typer.Option(help="officer, police, planner, admin or auditor")],
    password_stdin: PasswordStdin = False,
    grids: Annotated[
        str | None, typer.Option(help="Officers: their 15-digit grid codes, comma-separated")
    ] = None,
    division: Annotated[
        str | None, typer.Option(help="Police: the 12-digit division code of their area")
    ] = None,
    totp: Annotated[bool, typer.Option("--totp", help="Enrol a TOTP second factor")] = False,
) -> None:
    """Create an account."""
    password = read_password(password_stdin)
    with session_scope() as session, options_named(JURISDICTION_OPTIONS):
        made = service.add_user(
            session,
            name=name,
            role=role,
            password=password,
            actor=cli_actor(),
            grid_codes=_grid_codes(grids),
            division_code=division,
            with_totp=totp,
        )
    console.print(f"added {made.user.name} ({made.user.role})")
    _warn_unknown(made.unknown_grid_codes)
    if made.totp_secret:
        console.print(f"TOTP secret: {made.totp_secret}")
        console.print(f"TOTP URI: {totp_uri(made.totp_secret, name=name)}")


@app.command("list")
def list_() -> None:
    """List accounts (no secrets)."""
    with session_scope() as session:
        users = service.list_users(session)
    for user in users:
        where = ",".join(user.grid_codes) or user.division_code or "-"
        flags = [f for f, on in (("disabled", user.is_disabled), ("locked", user.is_locked),
                                 ("totp", user.has_totp)) if on]  # fmt: skip
        typer.echo(f"{user.name}\t{user.role}\t{where}\t{' '.join(flags)}".rstrip())


@app.command("move")
def move(
    name: Annotated[str, typer.Argument(help="Login name")],
    grids: Annotated[
        str | None, typer.Option(help="Officers: their new 15-digit grid codes, comma-separated")
    ] = None,
    division: Annotated[
        str | None, typer.Option(help="Police: the 12-digit division code of their new area")
    ] = None,
) -> None:
    """Give an officer other grids (after a new plan, whose grids have new codes) or a police
    user another division; it counts from their next request."""
    with session_scope() as session, options_named(JURISDICTION_OPTIONS):
        user, unknown = service.set_jurisdiction(
            session, name=name, actor=cli_actor(), grid_codes=_grid_codes(grids),
            division_code=division,
        )  # fmt: skip
    console.print(f"{user.name} ({user.role}): {','.join(user.grid_codes) or user.division_code}")
    _warn_unknown(unknown)


JURISDICTION_OPTIONS = {"grid_codes": "--grids", "grids": "--grids",
                        "division_code": "--division", "division": "--division"}  # fmt: skip
"""The service's fields as this command's options, in its error messages."""


def _grid_codes(grids: str | None) -> list[str]:
    """``--grids CODE,CODE`` as a list."""
    return [code for code in (grids or "").split(",") if code.strip()]


def _warn_unknown(codes: Sequence[str]) -> None:
    if codes:
        errors.print(f"warning: no grid has the code(s) {', '.join(codes)} yet")


@app.command()
def disable(name: Annotated[str, typer.Argument(help="Login name")]) -> None:
    """Disable an account and end its sessions."""
    with session_scope() as session:
        service.set_disabled(session, name=name, is_disabled=True, actor=cli_actor())
    console.print(f"disabled {name}")


@app.command()
def enable(name: Annotated[str, typer.Argument(help="Login name")]) -> None:
    """Enable a disabled account."""
    with session_scope() as session:
        service.set_disabled(session, name=name, is_disabled=False, actor=cli_actor())
    console.print(f"enabled {name}")


@app.command()
def reset(
    name: Annotated[str, typer.Argument(help="Login name")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new password, lift a lockout and end the account's sessions."""
    password = read_password(password_stdin)
    with session_scope() as session:
        service.reset_password(session, name=name, password=password, actor=cli_actor())
    console.print(f"reset {name}")


@app.command()
def totp(name: Annotated[str, typer.Argument(help="Login name")]) -> None:
    """Enrol (or replace) the account's TOTP second factor and print its secret once."""
    with session_scope() as session:
        secret = service.enrol_totp(session, name=name, actor=cli_actor())
    console.print(f"TOTP secret: {secret}")
    console.print(f"TOTP URI: {totp_uri(secret, name=name)}")
