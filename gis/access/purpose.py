"""Purpose-bound reads: police state why they read personal data (a case number or a reason).

DESIGN §8: "every query needs a stated purpose and is audited". A purpose is a case number
(6-40 letters, digits, ``-``, ``/`` or ``_``, at least 4 of them digits, such as
``A4403052026050001`` or ``2026-0501``) or a reason of at least 10 characters. Police must give
one on every read of personal data; other roles may, and what they give is checked the same way.
A reveal of full identifiers always needs one, as its reason.
"""

from __future__ import annotations

import re
import unicodedata

from gis.access.scope import Scope
from gis.errors import PurposeRequired
from gis.users.models import Role

MIN_REASON_CHARACTERS = 10
MAX_PURPOSE_CHARACTERS = 500
_CASE_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/_]{5,39}")
RULE = (
    "a case number (6-40 letters and digits, at least 4 digits) "
    "or a reason of at least 10 characters"
)


def is_case_number(text: str) -> bool:
    """A police case number: 6-40 letters, digits, dashes, slashes or underscores, at least
    four of them digits.

    >>> is_case_number("A4403052026050001"), is_case_number("2026-0501"), is_case_number("abc")
    (True, True, False)
    """
    return bool(_CASE_NUMBER.fullmatch(text)) and sum(char.isdigit() for char in text) >= 4


def visible(text: str) -> str:
    """The text without control, format (zero-width spaces, direction marks), private-use and
    unassigned characters, which show as nothing: a purpose must be readable in the audit log.

    >>> visible("case\u200b\u200b 12")
    'case 12'
    """
    return "".join(char for char in text if not unicodedata.category(char).startswith("C"))


def checked_purpose(text: str | None, *, field: str = "purpose") -> str | None:
    """The purpose, stripped, or ``None`` when empty; :class:`PurposeRequired` when it is
    neither a case number nor a reason of at least 10 characters."""
    if text is None:
        return None
    if "\x00" in text:
        raise PurposeRequired(f"give {RULE} (at most {MAX_PURPOSE_CHARACTERS})", field=field)
    value = " ".join(visible(text).split())
    if not value:
        return None
    if len(value) > MAX_PURPOSE_CHARACTERS:
        raise PurposeRequired(f"give {RULE} (at most {MAX_PURPOSE_CHARACTERS})", field=field)
    if not (is_case_number(value) or len(value) >= MIN_REASON_CHARACTERS):
        # the text sent is not repeated: it often names the person looked for
        raise PurposeRequired(
            f"{len(value)} characters and no case number is too short: give {RULE}", field=field
        )
    return value


def require_purpose(scope: Scope, text: str | None, *, field: str = "purpose") -> str | None:
    """Check a stated purpose; police without one are refused (422)."""
    purpose = checked_purpose(text, field=field)
    if purpose is None and scope.role is Role.POLICE:
        raise PurposeRequired(f"police must state a purpose: {RULE}", field=field)
    return purpose


def require_reason(text: str | None, *, field: str = "reason") -> str:
    """A reason is required from every role (reveals)."""
    reason = checked_purpose(text, field=field)
    if reason is None:
        raise PurposeRequired(f"a reason is required: {RULE}", field=field)
    return reason
