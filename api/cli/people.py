"""``gridhouse import people FILE`` and ``gridhouse quality [--grid CODE] [--overdue]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.cli.common import (
    cli_actor,
    console,
    engine_scope,
    options_named,
    rejects_path,
    session_scope,
)
from gis.access.scope import Scope, division_prefix
from gis.audit.service import record_audit
from gis.codes import parse_grid_code
from gis.db import make_session_factory
from gis.divisions.service import known_division
from gis.errors import InvalidInput
from gis.people import quality
from gis.people.importing import import_people
from gis.people.periods import WorkCalendar, today_in_china
from gis.people.registry import ensure_people_key, people_key_path
from gis.people.schemas_quality import QualityReport
from gis.settings import get_settings


def ensure_key() -> None:
    """Create the people key at setup (never over encrypted rows: see ``ensure_people_key``)."""
    settings = get_settings()
    with session_scope() as session:
        _, created = ensure_people_key(session, path=people_key_path(settings))
    if created:
        console.print(
            f"created the people key {people_key_path(settings)}: keep a copy with the backups"
        )


def _count_lines(path: Path) -> int | None:
    if path.suffix.lower() != ".csv":
        return None
    with path.open("rb") as handle:
        return max(0, sum(1 for _ in handle) - 1)


def run_people_import(
    file: Path, *, rejects: Path | None, batch_size: int, holidays: Path | None
) -> None:
    """The body of ``gridhouse import people``."""
    settings = get_settings()
    rejects_file = rejects_path(rejects, source=file, kind="people")
    calendar = WorkCalendar.from_file(
        holidays or settings.holidays_file,
        field="--holidays" if holidays else "GRIDHOUSE_HOLIDAYS_FILE",
    )
    with session_scope() as session:
        cipher, created = ensure_people_key(session, path=people_key_path(settings))
    if created:
        console.print(f"created the people key {people_key_path(settings)}: back it up")
    total = _count_lines(file)
    columns = (TextColumn("people"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with (
        engine_scope() as engine,
        Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar,
    ):
        task = bar.add_task("rows", total=total)
        result = import_people(
            make_session_factory(engine), path=file, cipher=cipher, calendar=calendar,
            actor=cli_actor(), today=today_in_china(), rejects_file=rejects_file,
            batch_size=batch_size, on_progress=lambda done: bar.update(task, completed=done),
        )  # fmt: skip
    for line, reason in result.rejected[:20]:
        console.print(f"  rejected line {line}: {reason}")
    if len(result.rejected) > 20:
        console.print(f"  … {len(result.rejected) - 20:,} more in the rejects file")
    for masked, lines in list(result.duplicates.items())[:20]:
        console.print(f"  ID number {masked} appears on lines {', '.join(map(str, lines))}")
    if result.rejects_file:
        console.print(f"rejected rows with their reasons: {result.rejects_file}")
    console.print(
        f"read {result.read:,}, imported {result.imported:,} residences "
        f"({result.people_created:,} new people), already there {result.already_imported:,}, "
        f"rejected {len(result.rejected):,}, duplicated ID numbers {len(result.duplicates):,}"
    )
    if result.counted_again:
        console.print(f"buildings counted again for maps and statistics: {result.counted_again:,}")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _mark(meets: bool | None) -> str:
    return "" if meets is None else (" ✓" if meets else " ✗")


def _print_reports(reports: list[QualityReport]) -> None:
    """One line per area: the four rates (✓ meets its threshold, ✗ does not)."""
    for r in reports:
        rates = "  ".join(
            f"{name} {_percent(rate.value):>6}{_mark(rate.meets)}"
            for name, rate in (
                ("registration", r.registration),
                ("accuracy", r.accuracy),
                ("late deregistration", r.late_deregistration),
                ("permits", r.permits),
            )
        )
        console.print(
            f"{r.area_kind:9} {r.area_code:15}  residents {r.resident_count or 0:>9,}  "
            f"floating {_percent(r.floating_share):>6}  {rates}"
        )


QUALITY_OPTIONS = {"grid": "--grid", "code": "--grid", "division": "--division"}
"""The service's field names (a grid's ``code`` in its overdue list) as this command's options."""


def quality_command(
    grid: Annotated[str | None, typer.Option(help="Only this grid (15 digits)")] = None,
    division: Annotated[
        str | None, typer.Option(help="Only grids and communities under this division")
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="List late declarations and deregistrations")
    ] = False,
) -> None:
    """The four rates per grid and per community, or what is overdue in each grid."""
    if grid is not None and division is not None:
        raise InvalidInput("give --grid or --division, not both", field="--division")
    grid = parse_grid_code(grid, field="--grid") if grid is not None else None
    on = today_in_china()
    scope = Scope.system(cli_actor().name or "cli")
    with session_scope() as session, options_named(QUALITY_OPTIONS):
        padded = known_division(session, division, field="--division") if division else None
        if overdue:
            codes = [grid] if grid else quality.current_grids(session, on=on, scope=scope)
            if padded is not None:
                codes = [code for code in codes if code.startswith(division_prefix(padded))]
            late = 0
            for code in codes:
                listing = quality.overdue(session, scope=scope, code=code, on=on)
                for item in listing.declarations:
                    console.print(
                        f"{code} declaration {item.house_code} {item.name} {item.id_number or ''}"
                        f" moved in {item.moved_in}, due {item.due_on}: {item.days_late} days late"
                    )
                for departure in listing.departures:
                    console.print(
                        f"{code} departure {departure.house_code} {departure.name} "
                        f"{departure.id_number or ''} left {departure.moved_out}, due "
                        f"{departure.due_on}: {departure.days_late} days late"
                    )
                late += len(listing.declarations) + len(listing.departures)
            record_audit(
                session,
                actor=cli_actor(),
                action="grids.overdue",
                target_codes=codes[:100],
                row_count=late,
            )
            console.print(f"{late:,} overdue in {len(codes):,} grids")
            return
        if grid:
            reports = [quality.grid_quality(session, scope=scope, code=grid, on=on)]
        else:
            reports = quality.all_quality(session, on=on, division=padded)
        _print_reports(reports)
        summary = quality.summarise(reports)
        failing = ", ".join(f"{name} {count}" for name, count in summary.failing.items())
        console.print(f"{summary.areas} areas; below a threshold: {failing}")
