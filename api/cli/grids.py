"""``gridhouse grids validate|classify|suggest|publish``, and the grid and road imports."""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from api.cli.common import audit_cli, console, options_named, rejects_path, session_scope
from gis.access.scope import Scope, division_prefix
from gis.clock import parse_iso_date, today_in_china
from gis.crs import parse_crs
from gis.divisions.service import known_division, pad_code
from gis.errors import InvalidInput, TopologyViolation
from gis.grids.classes import ClassConfig
from gis.settings import get_settings

app = typer.Typer(
    help="Grids: check the topology rules, classify, suggest, publish plans.", no_args_is_help=True
)

DivisionOption = Annotated[
    str | None, typer.Option("--division", help="A 6, 9 or 12-digit division code (default: all)")
]
AtOption = Annotated[
    str | None, typer.Option("--at", help="The date (YYYY-MM-DD) the grids are valid on")
]


def _scope() -> Scope:
    return Scope.system(f"cli:{getpass.getuser()}")


def _date(value: str | None, *, option: str) -> date:
    if value is None:
        return today_in_china()
    return parse_iso_date(value, field=option)  # YYYY-MM-DD only, as the HTTP API reads dates


def _config(path: Path | None) -> ClassConfig:
    """``--config``, else the ``GRIDHOUSE_GRID_CLASSES_FILE`` setting, else the defaults; a bad
    file is refused naming the option or the setting, and the key inside it."""
    option = "--config" if path is not None else "GRIDHOUSE_GRID_CLASSES_FILE"
    try:
        return ClassConfig.load(path or get_settings().grid_classes_file)
    except InvalidInput as error:
        inside = "" if error.field in (None, "config") else f"{error.field}: "
        raise InvalidInput(f"{inside}{error.message}", field=option) from None


def print_problems(features: list[dict[str, Any]]) -> None:
    """One line a problem: severity, kind, message, location (lon,lat)."""
    for feature in features:
        p = feature["properties"]
        console.print(f"  {p['severity']}: {p['kind']}: {p['message']} at {p['location']}")


def _division_prefix(session: Session, division: str | None) -> str | None:
    """``--division`` checked (well formed, known) as the prefix of its codes; ``None`` for all."""
    if division is None:
        return None
    return division_prefix(known_division(session, division, field="--division"))


@app.command("validate")
def validate(division: DivisionOption = None, at: AtOption = None) -> None:
    """Check the hard topology rules of the grids valid on a date; exit 1 when one is broken."""
    from gis.grids.validation import validate_live

    on = _date(at, option="--at")
    with session_scope() as session:
        prefix = _division_prefix(session, division) or ""
        report = validate_live(session, prefix=prefix, on=on)
    print_problems([p.feature() for p in report.problems])
    console.print(
        f"grids on {on}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)"
    )
    if report.errors:
        raise typer.Exit(1)


@app.command("classify")
def classify(
    division: DivisionOption = None,
    at: AtOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would change")] = False,
    config: Annotated[Path | None, typer.Option(help="Weights and cut-offs (JSON or TOML)")] = None,
) -> None:
    """Classify the grids of whole districts (reinforced / key / regular) and say why."""
    from gis.grids.classify import classify_grids

    on = _date(at, option="--at")
    with session_scope() as session:
        prefix = _division_prefix(session, division)
        report = classify_grids(
            session,
            on=on,
            config=_config(config),
            actor=_scope().actor,
            prefix=prefix,
            dry_run=dry_run,
        )
        if dry_run:
            session.rollback()
    verb = "would change" if dry_run else "changed"
    for change in report.changes:
        console.print(f"  {change.code}: {change.old or '-'} → {change.new}: {change.summary}")
    for kept in report.kept:
        if kept.hysteresis:
            console.print(f"  {kept.code}: {kept.hysteresis}")
    counts = ", ".join(f"{n} {cls}" for cls, n in sorted(report.by_class.items()))
    console.print(f"{report.grids} grids on {on}: {len(report.changes)} {verb} ({counts})")


@app.command("suggest")
def suggest(
    community: Annotated[str | None, typer.Option(help="A community (12 digits)")] = None,
    division: DivisionOption = None,
    target_households: Annotated[int, typer.Option(min=10, max=100_000)] = 400,
    publish: Annotated[bool, typer.Option("--publish", help="Publish the plan at once")] = False,
    effective: Annotated[str | None, typer.Option(help="Effective date when publishing")] = None,
) -> None:
    """Propose a draft plan following roads, keeping buildings whole, balancing households."""
    from gis.grids.impact import plan_impact
    from gis.grids.suggesting import suggest_plan

    if community and division:
        raise InvalidInput("name a --community or a --division, not both", field="--division")
    if effective and not publish:
        raise InvalidInput(
            "--effective is the date of publishing: add --publish, or publish the draft later "
            "with gridhouse grids publish PLAN --effective DATE",
            field="--effective",
        )
    code = community or division
    option = "--community" if community else "--division"
    if code is None:
        raise InvalidInput("name a --community (or a --division)", field="--community")
    scope = _scope()
    with session_scope() as session, options_named({"division_code": option}):
        plan = suggest_plan(
            session,
            division_code=pad_code(code, field_name=option),
            scope=scope,
            target_households=target_households,
        )
        impact = plan_impact(session, plan_id=plan.id, scope=scope, config=_config(None))
        for grid in impact.grids:
            console.print(
                f"  {grid.ref:>16} {grid.community_code} households {grid.households:>5} "
                f"({'estimated' if grid.households_estimated else 'registered'}), "
                f"Polsby-Popper {grid.polsby_popper:.2f}, predicted {grid.predicted_class}"
            )
        print_problems(impact.problems["features"])
        console.print(
            f"plan {plan.id}: {len(impact.grids)} grids suggested, {impact.errors} "
            f"error(s), {impact.warnings} warning(s)"
        )
        if publish:
            _publish(session, plan.id, effective, scope)
    if not publish:
        console.print(f"publish it with: gridhouse grids publish {plan.id} --effective YYYY-MM-DD")


@app.command("publish")
def publish_command(
    plan_id: Annotated[int, typer.Argument(min=1)],
    effective: Annotated[str | None, typer.Option(help="Effective date (default today)")] = None,
) -> None:
    """Publish a draft plan: check the hard rules, switch the live grids on the date."""
    with session_scope() as session:
        _publish(session, plan_id, effective, _scope())


def _publish(session: Any, plan_id: int, effective: str | None, scope: Scope) -> None:
    from gis.grids.publishing import publish_plan

    on = _date(effective, option="--effective")
    try:
        result = publish_plan(
            session, plan_id=plan_id, effective=on, scope=scope, config=_config(None)
        )
    except TopologyViolation as refused:
        print_problems(refused.problems["features"])
        raise
    console.print(
        f"plan {plan_id} published from {on}: {len(result.added)} added, "
        f"{len(result.changed)} changed, {len(result.unchanged)} unchanged, "
        f"{len(result.retired)} retired"
    )


def run_grid_import(
    *, file: Path, layer: str | None, crs: str | None, valid_from: str | None
) -> None:
    """``gridhouse import grids``: problems printed one a line, a summary at the end."""
    from gis.grids.importing import import_grids

    on = _date(valid_from, option="--valid-from")
    with session_scope() as session, options_named({"effective_date": "--valid-from"}):
        try:
            result = import_grids(
                session,
                path=file,
                valid_from=on,
                actor=_scope().actor,
                layer=layer,
                crs=parse_crs(crs, field="--crs") if crs is not None else None,
            )
        except TopologyViolation as refused:
            print_problems(refused.problems["features"])
            raise
    for line in result.not_kept:
        console.print(f"  {line}")
    switch = result.switch
    console.print(
        f"grids: {result.read} read, {len(switch.added)} added, {len(switch.changed)} changed, "
        f"{len(switch.unchanged)} unchanged, {len(switch.retired)} retired, valid from {on} "
        f"(batch {result.batch_id})"
    )


def run_road_import(
    *, file: Path, layer: str | None, crs: str | None, replace: bool, rejects: Path | None
) -> None:
    from gis.buildings.checks import write_rejections
    from gis.roads.service import import_roads

    rejects_file = rejects_path(rejects, source=file, kind="roads")
    with session_scope() as session:
        result = import_roads(
            session,
            path=file,
            layer=layer,
            crs=parse_crs(crs, field="--crs") if crs is not None else None,
            replace=replace,
        )
        audit_cli(session, "roads.import", target_codes=[file.name], row_count=result.imported)
    for rejection in result.rejections[:20]:
        who = f" ({rejection.source_id})" if rejection.source_id else ""
        console.print(f"  rejected row {rejection.row}{who}: {rejection.reason}", markup=False)
    if result.rejected > 20:
        console.print(f"  … {result.rejected - 20} more in the rejects file")
    written = ""
    if result.rejections:
        write_rejections(rejects_file, result.rejections)
        written = f" (rejects: {rejects_file})"
    console.print(
        f"roads: {result.read:,} read, {result.imported:,} loaded, {result.rejected:,} rejected, "
        f"{result.replaced:,} replaced, source {result.source}{written}",
        markup=False,
    )
