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

The canonical bytes are made in Python on the way in (:func:`canonical_parts`: the row's id is
drawn by the database under the chain's lock, so the bytes go split around it and the database
function ``audit_append`` of migration 0007 joins them and takes the SHA-256), and
``gridhouse audit verify`` recomputes every hash in Python (:func:`row_hash`), never by a
database function, so someone who controls the database cannot change how rows are checked.
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
    return _compact(_document(content))


def _document(content: AuditContent) -> dict[str, object]:
    return {
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


def canonical_parts(content: AuditContent) -> tuple[bytes, bytes]:
    """The canonical bytes of ``content`` without its id: ``(head, tail)`` such that
    ``head + str(id).encode() + tail == canonical_bytes(content)`` for any id.

    Keys are sorted, so the keys before ``"id"`` make the head and the rest the tail:

    >>> content = AuditContent(id=7, at=datetime(2026, 1, 1, tzinfo=UTC), user_name=None,
    ...     role=None, action="x.read", target_codes=(), query_wkb_hex=None, purpose=None,
    ...     row_count=None, outcome="ok", client_addr=None)
    >>> head, tail = canonical_parts(content)
    >>> head[-6:], tail[:11]
    (b',"id":', b',"outcome":')
    >>> head + b"7" + tail == canonical_bytes(content)
    True
    """
    document = _document(content)
    before = {key: value for key, value in document.items() if key < "id"}
    after = {key: value for key, value in document.items() if key > "id"}
    head = _compact(before)[:-1] + b',"id":'
    tail = b"," + _compact(after)[1:]
    return head, tail


def _compact(document: dict[str, object]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(content: AuditContent, *, prev_hash: bytes | None) -> bytes:
    """SHA-256 over the previous row's hash (or :data:`GENESIS`) and the row's canonical bytes."""
    digest = hashlib.sha256()
    digest.update(prev_hash if prev_hash is not None else GENESIS)
    digest.update(canonical_bytes(content))
    return digest.digest()
