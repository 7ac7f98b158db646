"""Text fields of requests: what every free-text field must hold."""

from __future__ import annotations

from pydantic import AfterValidator


def _not_blank(value: str | None) -> str | None:
    """The text without surrounding white space; refused when nothing else is left (``None``,
    where a field may be absent, stays ``None``)."""
    if value is None:
        return None
    stripped = value.strip()
    if not stripped:
        raise ValueError("is blank (white space only)")
    return stripped


NotBlank = AfterValidator(_not_blank)
