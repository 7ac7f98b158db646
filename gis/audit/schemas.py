"""Shapes of the audit domain: who acted, how it ended, a row as read back, a chain check."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from gis.clock import ChinaTime


@dataclass(frozen=True)
class Actor:
    """Who did an audited thing: a user and role, or a CLI operator (``cli:root``, role admin)."""

    name: str | None
    role: str | None


class AuditOutcome(StrEnum):
    """How an audited action ended."""

    OK = "ok"
    DENIED = "denied"
    NOT_FOUND = "not_found"
    FAILED = "failed"


class AuditRecord(BaseModel):
    """One audit row as the auditor sees it (the hashes in hex)."""

    model_config = ConfigDict(extra="forbid")

    id: int
    at: ChinaTime
    user_name: str | None
    role: str | None
    action: str
    target_codes: list[str]
    query_geom: dict[str, Any] | None
    purpose: str | None
    row_count: int | None
    outcome: str
    client_addr: str | None
    prev_hash: str | None
    hash: str | None


class AuditPage(BaseModel):
    """A page of audit rows, newest first; pass ``next_before_id`` as ``before_id`` for more."""

    model_config = ConfigDict(extra="forbid")

    items: list[AuditRecord]
    next_before_id: int | None


class ChainProblemKind(StrEnum):
    EDITED = "edited"
    BROKEN_LINK = "broken_link"
    DELETED_AT_START = "deleted_at_start"


@dataclass(frozen=True)
class ChainProblem:
    """The first place where the chain does not hold."""

    row_id: int
    kind: ChainProblemKind
    message: str


@dataclass(frozen=True)
class ChainReport:
    """What ``verify_chain`` found: rows checked, the head, and the first problem if any.

    ``starts_after_purge`` is true when the oldest remaining row links to a row no longer there
    (rows older than 180 days may be purged by the database owner).
    """

    rows_checked: int
    first_id: int | None
    head_id: int | None
    head_hash: bytes | None
    starts_after_purge: bool
    problem: ChainProblem | None

    @property
    def is_intact(self) -> bool:
        return self.problem is None
