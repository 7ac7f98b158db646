"""``gridhouse audit verify``: walk the audit hash chain, report the first edited or missing row."""

from __future__ import annotations

import typer

from api.cli.common import console, errors, session_scope
from gis.audit.service import verify_chain

app = typer.Typer(help="The audit log.", no_args_is_help=True)


@app.command()
def verify() -> None:
    """Check every row's hash and link; exit 1 naming the first row that fails."""
    with session_scope() as session:
        report = verify_chain(session)
    if report.problem is not None:
        errors.print(f"error: audit log tampered: {report.problem.message}")
        raise typer.Exit(1)
    if report.rows_checked == 0:
        console.print("the audit log is empty")
        return
    note = " (older rows were purged)" if report.starts_after_purge else ""
    head = report.head_hash.hex() if report.head_hash else "-"
    console.print(
        f"audit log intact: {report.rows_checked} rows, {report.first_id}..{report.head_id}{note}; "
        f"head hash {head}"
    )
