"""Column types shared by every domain's models: enums stored as checked text, timestamps."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Enum, func
from sqlalchemy.orm import mapped_column


def enum_type(enum: type[StrEnum], name: str) -> Enum:
    """A ``StrEnum`` stored as VARCHAR with a CHECK of its values (easier to migrate than a
    native PostgreSQL enum, whose values cannot be removed)."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def created_at_column() -> Any:
    """``created_at timestamptz NOT NULL DEFAULT now()``."""
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
