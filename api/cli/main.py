"""The ``gridhouse`` command: composes the sub-commands and turns failures into one line."""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from typing import NoReturn

import typer
import typer.main
from psycopg import errors as pg_errors
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from typer._click import Command, Context  # Typer 0.29 carries its own click
from typer.core import TyperGroup

from api.cli.common import errors
from gis.db import missing_schema, race_conflict
from gis.errors import GisError

INTERRUPTED = 130
"""The exit status of a command stopped with Ctrl-C (128 + SIGINT), as Typer gives it."""

DEBUG_VARIABLE = "GRIDHOUSE_DEBUG"
"""Set to 1 to see the Python traceback of an unexpected failure instead of its one line."""

COMMANDS: dict[str, str] = {
    "db": "api.cli.db:app",
    "import": "api.cli.imports:app",
    "code": "api.cli.codes:app",
    "buildings": "api.cli.lifecycle:app",
    "users": "api.cli.users:app",
    "audit": "api.cli.audit:app",
    "grids": "api.cli.grids:app",
    "events": "api.cli.events:app",
    "permits": "api.cli.events:permits_app",
    "exchange": "api.cli.events:exchange_app",
    "migrate": "api.cli.db:migrate",
    "serve": "api.cli.serve:serve",
    "demo": "api.cli.demo:demo",
    "quality": "api.cli.people:quality_command",
    "export": "api.cli.exports:export",
}
"""Each sub-command and where it lives (``module:attribute``, a Typer app or a command function).
A command's module is imported only when the command runs (or ``--help`` lists them all): the
modules between them pull in GDAL, pandas, the web application and the rest, seconds of
start-up that ``gridhouse code check`` has no use for."""


class LazyGroup(TyperGroup):
    """The top-level group: sub-commands in :data:`COMMANDS` order, each loaded on first use."""

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        loaded = getattr(importlib.import_module(module), attribute)
        command: Command
        if isinstance(loaded, typer.Typer):  # a group, even of one command (``code check``)
            command = typer.main.get_group(loaded)
        else:  # a command function
            single = typer.Typer(add_completion=False)
            single.command(cmd_name)(loaded)
            command = typer.main.get_command(single)
        command.name = cmd_name
        return command


app = typer.Typer(
    cls=LazyGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def gridhouse() -> None:
    """gridhouse: grid-based community management and house coding on PostGIS."""


def main() -> None:
    """Entry point: exit 0 on success, non-zero with a one-line reason on failure (a command
    line that is not understood: exit 2, one line naming the command's ``--help``)."""
    # GDAL's notes on a file (an unreadable WKT it skips) come as warnings of two lines with a
    # path into pyogrio; the row they concern is refused with its reason all the same
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyogrio")
    try:
        code = app(prog_name="gridhouse", standalone_mode=False)
    except typer.TyperException as error:  # the command line itself (Typer's own click)
        if type(error).__name__ == "NoArgsIsHelpError":  # ``gridhouse import``: its help
            app([*sys.argv[1:], "--help"], prog_name="gridhouse", standalone_mode=False)
            sys.exit(2)
        message = " ".join(error.format_message().replace("Value error, ", "").split())
        context = getattr(error, "ctx", None)
        if error.exit_code == 2 and context is not None:  # a usage error
            message += f" (see {context.command_path} --help)"
        errors.print(f"error: {message}", markup=False)
        sys.exit(error.exit_code)
    except typer.Abort:
        errors.print("error: aborted", markup=False)
        sys.exit(1)
    except GisError as error:
        errors.print(f"error: {error}")
        sys.exit(1)
    except ValidationError as error:  # an option's value a request schema refuses
        errors.print(f"error: {describe_invalid_option(error)}", markup=False)
        sys.exit(1)
    except IntegrityError as error:  # another process stored the same thing first
        conflict = race_conflict(error)
        if conflict is None:
            _unexpected(error)
        errors.print(f"error: {conflict}", markup=False)
        sys.exit(1)
    except ProgrammingError as error:  # a table or function of the schema is not there
        advice = missing_schema(error)
        if advice is None:
            _unexpected(error)
        errors.print(f"error: {advice}", markup=False)
        sys.exit(1)
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        if isinstance(error.orig, pg_errors.DeadlockDetected | pg_errors.SerializationFailure):
            errors.print(
                f"error: {reason}: a command running at the same time changed the same rows; "
                "this one's open transaction was rolled back: run it again",
                markup=False,
            )
            sys.exit(1)
        errors.print(f"error: the database cannot be reached: {reason}")
        sys.exit(1)
    except Exception as error:  # the last resort: a failure nobody foresaw is still one line
        _unexpected(error)
    if code == INTERRUPTED:  # Ctrl-C: Typer's Exit(130), which said nothing
        errors.print(
            "error: interrupted; what was committed before stays (an import's finished batches: "
            "the same command again carries on)",
            markup=False,
        )
    if isinstance(code, int) and code:  # a command's typer.Exit(code)
        sys.exit(code)


def _unexpected(error: Exception) -> NoReturn:
    """One line for a failure nobody foresaw (its traceback with ``GRIDHOUSE_DEBUG=1``)."""
    if os.environ.get(DEBUG_VARIABLE, "") not in ("", "0"):
        raise error
    errors.print(f"error: {describe_unexpected(error)}; run with {DEBUG_VARIABLE}=1 for the "
                 "traceback", markup=False)  # fmt: skip
    sys.exit(1)


def describe_invalid_option(error: ValidationError) -> str:
    """``--option: the reason`` of the first value refused (a note too long, say).

    >>> from pydantic import BaseModel, Field
    >>> class Step(BaseModel):
    ...     note: str = Field(max_length=3)
    >>> try:
    ...     Step(note="long")
    ... except ValidationError as error:
    ...     describe_invalid_option(error)
    '--note: String should have at most 3 characters'
    """
    first = error.errors()[0]
    where = first.get("loc") or ()
    if error.title == "Settings":  # a setting comes from the environment, not an option
        option = f"GRIDHOUSE_{str(where[0]).upper()}: " if where else ""
    else:
        option = f"--{str(where[0]).replace('_', '-')}: " if where else ""
    reason = str(first.get("msg", "not valid")).removeprefix("Value error, ")
    return f"{option}{reason}"


def describe_unexpected(error: BaseException) -> str:
    """``the name of the error: the first line of its message``.

    >>> describe_unexpected(IsADirectoryError(21, "Is a directory"))
    'IsADirectoryError: [Errno 21] Is a directory'
    """
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
