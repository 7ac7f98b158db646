"""The audit hash chain: the canonical bytes of a row and the SHA-256 that links it to the last.

A row's ``hash`` is ``SHA-256(prev_hash || canonical(row))`` where ``prev_hash`` is the previous
row's ``hash`` (32 zero bytes stand in for it at the start of the log) and ``canonical(row)`` is
compact JSON with sorted keys of every other column:

>>> content = AuditContent(id=1, at=datetime(2026, 1, 1, tzinfo=UTC), user_name="li",
...     role="police", action="occupants.read", target_codes=("4403050070031000123000007",),
...     query_wkb_hex=None, purpose="case 2026-17", row_count=3, outcome="ok", client_addr=None)
>>> canonical_bytes(content)[:40]
b'{"action":"occupants.read","at":"2026-01'
>>> len(row_hash(content, prev_hash=None))
32

The function is computed in Python on the way in and again by ``gridhouse audit verify``, never
by a database function, so someone who controls the database cannot change how rows are checked.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = bytes(32)
"""What the first row of the log is chained to."""


@dataclass(frozen=True)
class AuditContent:
    """Every hashed column of one audit row, in canonical Python form."""

    id: int
    at: datetime
    user_name: str | None
    role: str | None
    action: str
    target_codes: tuple[str, ...]
    query_wkb_hex: str | None
    purpose: str | None
    row_count: int | None
    outcome: str
    client_addr: str | None


def canonical_bytes(content: AuditContent) -> bytes:
    """Compact JSON, sorted keys, timestamps in UTC with microseconds, WKB as lower-case hex."""
    document = {
        "id": content.id,
        "at": content.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "user_name": content.user_name,
        "role": content.role,
        "action": content.action,
        "target_codes": list(content.target_codes),
        "query_geom": content.query_wkb_hex.lower() if content.query_wkb_hex else None,
        "purpose": content.purpose,
        "row_count": content.row_count,
        "outcome": content.outcome,
        "client_addr": content.client_addr,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(content: AuditContent, *, prev_hash: bytes | None) -> bytes:
    """SHA-256 over the previous row's hash (or :data:`GENESIS`) and the row's canonical bytes."""
    digest = hashlib.sha256()
    digest.update(prev_hash if prev_hash is not None else GENESIS)
    digest.update(canonical_bytes(content))
    return digest.digest()
