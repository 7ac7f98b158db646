"""``gridhouse import buildings`` with a progress bar and a summary line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.cli.common import audit_cli_job, cli_actor, console, engine_scope, rejects_path
from gis.buildings import importing
from gis.buildings import resurvey as resurveying
from gis.buildings.reading import open_footprints
from gis.crs import parse_crs
from gis.db import make_session_factory


def run_import(
    *,
    file: Path,
    layer: str | None,
    crs: str | None,
    community: str | None,
    resurvey: bool,
    repair: bool,
    rejects: Path | None,
    batch_size: int,
) -> None:
    source = open_footprints(
        file, layer=layer, crs=parse_crs(crs, field="--crs") if crs is not None else None
    )
    rejects_file = rejects_path(rejects, source=file, kind="buildings")
    console.print(f"reading {file.name} layer {source.layer!r} in {source.crs.label}")
    if resurvey:
        with engine_scope() as engine:
            changes = resurveying.resurvey_buildings(
                make_session_factory(engine),
                source=source,
                community_code=community,
                repair=repair,
                rejects_file=rejects_file,
                batch_size=batch_size,
            )
        _print_resurvey(changes)
        audit_cli_job("buildings.resurvey", target_codes=[f"batch:{changes.batch_id}", file.name])
        return
    with engine_scope() as engine, _progress() as progress:
        total = source.feature_count if source.feature_count >= 0 else None
        task = progress.add_task("buildings", total=total)
        summary = importing.import_buildings(
            make_session_factory(engine),
            source=source,
            community_code=community,
            repair=repair,
            rejects_file=rejects_file,
            batch_size=batch_size,
            on_progress=lambda n: progress.advance(task, n),
            loaders=2,
            actor=cli_actor(),  # an audit row with each batch stored
        )
    for source_id in summary.repaired_ids:
        console.print(f"  repaired: {source_id}")
    for rejection in summary.rejections[:20]:
        console.print(f"  rejected row {rejection.row} ({rejection.source_id}): {rejection.reason}")
    if summary.rejected > 20:
        console.print(f"  … {summary.rejected - 20} more in the rejects file")
    console.print(
        f"read {summary.read:,}, imported {summary.imported:,}, rejected {summary.rejected:,}, "
        f"repaired {summary.repaired:,}, time {summary.seconds:.1f} s "
        f"(batch {summary.batch_id}; rejects: {summary.rejects_file})"
    )


def review_text(item: dict[str, Any]) -> str:
    """A review item in one line, as the re-survey prints it and `gridhouse buildings changes`
    prints it again: what it proposes, the codes, the file's rows with their source ids, and
    for an overlap the share of each new footprint a coded building covers."""
    rows = ", ".join(
        f"{row} ({source})"
        for row, source in zip(item["new_rows"], item["new_source_ids"], strict=True)
    )
    text = f"review ({item['proposed']}): {', '.join(item['old_codes']) or '-'} ⇄ rows {rows}"
    covered = item.get("covered")
    if covered:
        text += "; covered " + ", ".join(f"{key} {share:.0%}" for key, share in covered.items())
    return text


def _print_resurvey(summary: resurveying.ResurveySummary) -> None:
    for source_id in summary.repaired_ids:
        console.print(f"  repaired: {source_id}")
    for item in summary.review_items[:20]:
        console.print(f"  {review_text(item)}", markup=False, highlight=False)
    if summary.review > 20:
        console.print(f"  … {summary.review - 20:,} more review items")
    for rejection in summary.rejections[:20]:
        console.print(f"  rejected row {rejection.row} ({rejection.source_id}): {rejection.reason}")
    if summary.rejected > 20:
        console.print(f"  … {summary.rejected - 20:,} more in the rejects file")
    console.print(
        f"re-survey batch {summary.batch_id}: read {summary.read:,}, added {summary.added:,}, "
        f"changed {summary.changed:,}, unchanged {summary.unchanged:,}, "
        f"pending_removal {summary.pending_removal:,}, review {summary.review:,}, "
        f"rejected {summary.rejected:,}, repaired {summary.repaired:,}, "
        f"time {summary.seconds:.1f} s"
    )
    console.print(
        f"every line again: gridhouse buildings changes {summary.batch_id} [--change review] "
        "[--out FILE.csv]",
        markup=False,
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
