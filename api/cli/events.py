"""``gridhouse events …``, ``gridhouse permits reminders`` and ``gridhouse exchange …``: the
CLI of issue 9, acting as an administrator; every change and every read of personal data audited."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

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
from gis.access.scope import Scope
from gis.audit.service import record_audit
from gis.clock import parse_iso_date
from gis.codes import parse_grid_code
from gis.crs import parse_crs
from gis.db import make_session_factory
from gis.errors import InvalidInput
from gis.events import exchange, permits
from gis.events import service as events
from gis.events.importing import import_events
from gis.events.models import EventStatus
from gis.events.schemas import EventStepRequest, ReconcileReport
from gis.people.periods import today_in_china
from gis.people.registry import load_people_cipher
from gis.private_files import check_new_file, open_private
from gis.settings import get_settings
from gis.table_files import read_text

EXCHANGE_OPTIONS = {"period_from": "--from", "period_to": "--to", "region": "--region"}
REMINDER_OPTIONS = {"code": "--grid", "within_days": "--within-days"}

app = typer.Typer(help="Events: list, overdue, move through their steps.", no_args_is_help=True)
permits_app = typer.Typer(help="Residence permits: reminders per grid.", no_args_is_help=True)
exchange_app = typer.Typer(help="Exchange with other regions.", no_args_is_help=True)


def _scope() -> Scope:
    return Scope.system(cli_actor().name or "cli")


@app.command("list")
def list_command(
    grid: Annotated[str | None, typer.Option(help="a 15-digit grid code")] = None,
    overdue: Annotated[bool, typer.Option(help="only open events past their deadline")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    after: Annotated[
        int | None, typer.Option(min=0, help="start after this event number (the next page)")
    ] = None,
) -> None:
    """List events (number order), with their status and deadline, a page at a time."""
    with session_scope() as session:
        page = events.list_events(
            session,
            scope=_scope(),
            now=events.now_utc(),
            grid_code=parse_grid_code(grid, field="--grid") if grid else None,
            is_overdue=overdue,
            after=after,
            limit=limit,
        )
        record_audit(
            session,
            actor=cli_actor(),
            action="events.list",
            target_codes=[grid] if grid else [],
            row_count=len(page.items),
        )
    for e in page.items:
        late = "  OVERDUE" if e.is_overdue else ""
        console.print(
            f"{e.id:>8}  {e.status:10} {e.kind:16} {e.grid_code or '-':15}  "
            f"due {e.due_at:%Y-%m-%d %H:%M}{late}  {e.title}"
        )
    console.print(f"{len(page.items)} event(s)")
    if page.next_after is not None:
        console.print(f"more: add --after {page.next_after} for the next page")


@app.command("step")
def step_command(
    event_id: Annotated[int, typer.Argument(min=1)],
    status: Annotated[EventStatus, typer.Argument(help="the status to move to")],
    note: Annotated[str | None, typer.Option()] = None,
    assignee: Annotated[str | None, typer.Option(help="dispatch to this officer")] = None,
    department: Annotated[str | None, typer.Option(help="dispatch to this department")] = None,
) -> None:
    """Move an event one step; a step the lifecycle does not allow fails with the reason."""
    request = EventStepRequest(status=status, note=note, assignee=assignee, department=department)
    with session_scope() as session:
        event = events.step_event(
            session, scope=_scope(), event_id=event_id, request=request, now=events.now_utc()
        )
        record_audit(
            session,
            actor=cli_actor(),
            action="events.step",
            target_codes=[f"event:{event_id}", str(status)],
            row_count=1,
        )
        console.print(f"event {event.id} is {event.status}")


def run_event_import(file: Path, *, crs: str | None, rejects: Path | None, batch_size: int) -> None:
    """The body of ``gridhouse import events``: progress, rejected rows, a summary line."""
    rejects_file = rejects_path(rejects, source=file, kind="events")
    source = parse_crs(crs, field="--crs") if crs is not None else None
    columns = (TextColumn("events"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with (
        engine_scope() as engine,
        Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar,
    ):
        task = bar.add_task("rows", total=None)
        result = import_events(
            make_session_factory(engine), path=file, crs=source, actor=cli_actor(),
            now=events.now_utc(), rejects_file=rejects_file, batch_size=batch_size,
            on_progress=lambda done: bar.update(task, completed=done),
        )  # fmt: skip
    for item in result.rejected[:20]:
        console.print(f"  rejected row {item.row}: {item}")
    if len(result.rejected) > 20:
        console.print(f"  … {len(result.rejected) - 20:,} more in the rejects file")
    if result.rejects_file:
        console.print(f"rejected rows with their reasons: {result.rejects_file}")
    if result.without_source_id:
        console.print(
            f"  {result.without_source_id:,} row(s) without a source_id: importing this file "
            "again would add them again"
        )
    console.print(
        f"read {result.read:,}, imported {result.imported:,}, already imported "
        f"{result.already_imported:,}, rejected {len(result.rejected):,} "
        f"(batch {result.batch_id}, CRS {result.crs or 'none needed'})"
    )


@permits_app.command("reminders")
def reminders_command(
    grid: Annotated[str, typer.Option(help="a 15-digit grid code")],
    within_days: Annotated[int, typer.Option(min=0, max=366)] = permits.REMINDER_DAYS,
) -> None:
    """Permits of a grid's residents whose endorsement or expiry falls due soon."""
    code = parse_grid_code(grid, field="--grid")
    with session_scope() as session, options_named(REMINDER_OPTIONS):
        result = permits.permit_reminders(
            session, scope=_scope(), grid_code=code, on=today_in_china(), within_days=within_days
        )
        record_audit(
            session,
            actor=cli_actor(),
            action="permits.reminders",
            target_codes=[code],
            row_count=len(result.items),
        )
    for r in result.items:
        console.print(
            f"{r.number}  {r.name:10} {r.house_code}  {r.due:11} {r.due_on} ({r.days_left} days)"
        )
    console.print(f"{len(result.items)} permit(s) due within {within_days} days")


@exchange_app.command("export")
def export_command(
    region: Annotated[str, typer.Option(help="our 12-digit division code")],
    period_from: Annotated[str, typer.Option("--from", help="YYYY-MM-DD")],
    period_to: Annotated[str, typer.Option("--to", help="YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help="FILE.json or FILE.csv")],
) -> None:
    """Write the inflow records of a period (full ID numbers: keep the file safe)."""
    kind = _suffix(out)
    check_new_file(out)
    cipher = load_people_cipher(get_settings())
    with session_scope() as session, options_named(EXCHANGE_OPTIONS):
        file = exchange.export_inflow(
            session,
            scope=_scope(),
            cipher=cipher,
            region=region,
            period_from=_date(period_from, "--from"),
            period_to=_date(period_to, "--to"),
        )
        record_audit(
            session,
            actor=cli_actor(),
            action="exchange.export",
            target_codes=[region],
            row_count=len(file.records),
        )
        text = exchange.to_csv(file) if kind == ".csv" else exchange.to_json(file).decode()
        with open_private(out, exclusive=True) as handle:  # full ID numbers
            handle.write(text)
    console.print(f"{len(file.records)} inflow record(s) written to {out}")


@exchange_app.command("reconcile")
def reconcile_command(
    file: Annotated[Path, typer.Argument(help="the other region's outflow file (.json, .csv)")],
    region: Annotated[str, typer.Option(help="our 12-digit division code")],
    other_region: Annotated[str | None, typer.Option(help="theirs (CSV files only)")] = None,
    period_from: Annotated[str | None, typer.Option("--from", help="CSV files only")] = None,
    period_to: Annotated[str | None, typer.Option("--to", help="CSV files only")] = None,
) -> None:
    """Reconcile another region's outflow with our inflow; prints the IDs to follow up."""
    suffix = _suffix(file)
    if suffix == ".csv" and not (other_region and period_from and period_to):
        raise InvalidInput("a CSV file needs --other-region, --from and --to", field="file")
    given = [name for name, value in (("--other-region", other_region), ("--from", period_from),
                                      ("--to", period_to)) if value]  # fmt: skip
    if suffix != ".csv" and given:
        raise InvalidInput(
            f"for CSV files only; a JSON file names its region and period itself ("
            f"{', '.join(given)} would be ignored)",
            field=given[0],
        )
    outflow = exchange.read_exchange_file(
        read_text(file, field="file"),
        suffix=suffix,
        kind="outflow",
        region=other_region or "",
        period_from=_date(period_from or "2000-01-01", "--from"),
        period_to=_date(period_to or "2000-01-01", "--to"),
    )
    cipher = load_people_cipher(get_settings())
    with session_scope() as session, options_named(EXCHANGE_OPTIONS):
        report = exchange.reconcile(
            session, scope=_scope(), cipher=cipher, region=region, outflow=outflow
        )
        rows = report.matched + len(report.here_not_there) + len(report.there_not_here)
        record_audit(
            session,
            actor=cli_actor(),
            action="exchange.reconcile",
            target_codes=[region, outflow.region],
            row_count=rows,
        )
    _print_report(report)


@exchange_app.command("show")
def show_command(
    batch_id: Annotated[int, typer.Argument(min=1, help="the reconciliation's batch number")],
) -> None:
    """Print a past reconciliation again, with the IDs to follow up (协查)."""
    cipher = load_people_cipher(get_settings())
    with session_scope() as session:
        report = exchange.reconciliation_report(
            session, scope=_scope(), cipher=cipher, batch_id=batch_id
        )
        record_audit(
            session,
            actor=cli_actor(),
            action="exchange.reconciliation_read",
            target_codes=[f"exchange:{batch_id}", report.region, report.other_region],
            row_count=len(report.here_not_there) + len(report.there_not_here),
        )
    console.print(
        f"reconciliation {report.batch_id}: {report.region} with {report.other_region}, "
        f"{report.period_from} to {report.period_to}"
    )
    _print_report(report)


def _print_report(report: ReconcileReport) -> None:
    console.print(
        f"matched {report.matched}, here not there {len(report.here_not_there)}, "
        f"there not here {len(report.there_not_here)} (batch {report.batch_id})"
    )
    for label, items in (
        ("here not there", report.here_not_there),
        ("there not here", report.there_not_here),
    ):
        for item in items:
            console.print(
                f"{label}: {item.citizen_id} {item.name} hukou {item.hukou_division} "
                f"lives {item.residence_division}"
            )


def _suffix(path: Path) -> Literal[".json", ".csv"]:
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise InvalidInput("the file must end in .json or .csv", field=str(path))
    return ".json" if suffix == ".json" else ".csv"


def _date(text: str, option: str) -> date:
    return parse_iso_date(text, field=option)  # YYYY-MM-DD only, as the HTTP API reads dates
