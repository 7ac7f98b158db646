"""Finding people on the map: by citizen ID number (exact, through its keyed hash) or by name
(exact, or the start of it), among the current residents of houses in the caller's scope."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.errors import InvalidInput
from gis.people.crypto import PeopleCipher, SealedField
from gis.people.identity import ID_LENGTH, compact_citizen_id, parse_citizen_id
from gis.people.models import Person
from gis.search import queries
from gis.search.queries import PersonHit

MAX_HITS = 20
MIN_NAME_CHARACTERS = 2
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
_FIRST_GENERATION = re.compile(r"[0-9]{15}")
_DOCUMENT = re.compile(r"(?=.*[A-Z])(?=.*[0-9])[A-Z0-9]{5,20}")
"""A travel document's number (overseas residents are registered under it): letters and
digits, at least one of each (all digits is part of a citizen ID number, or a mistyped one)."""


def looks_like_id_number(text: str) -> bool:
    """Whether ``text`` is shaped like a citizen ID number (17 digits and a check character) or
    a travel document's number (letters and digits, 5-20).

    >>> looks_like_id_number("44030519900101123x"), looks_like_id_number("e65843722")
    (True, True)
    >>> looks_like_id_number("王小明"), looks_like_id_number("513232610731822")
    (False, False)
    """
    text = text.strip().upper()
    if len(text) == ID_LENGTH:  # a citizen ID number, or a mistyped one (never a document)
        return bool(_ID_NUMBER.fullmatch(text))
    return bool(_DOCUMENT.fullmatch(text))


def searched_for(query: str, *, cipher: PeopleCipher) -> str:
    """What the audit row records of a search: a name as typed; an ID number as its keyed
    lookup hash in hex (``search:id:…``), which matches ``people.id_number_hash`` of the person
    it names but is no form of the number itself."""
    text = _normalised(query).replace("\x00", "")
    if looks_like_id_number(text):
        digest = cipher.lookup_hash(text, field=SealedField.ID_NUMBER)
        return f"search:id:{digest.hex()}"
    if _has_digit(text):
        # part of an ID number, or one mistyped: refused, and no form of it kept
        return "search:id:refused"
    return f"search:{text}"[:100]


def _has_digit(text: str) -> bool:
    return any(char.isdigit() for char in text)


def _normalised(query: str) -> str:
    """The query with its white space as single spaces; one holding a digit (an ID or document
    number, or part of one) read as registration reads ID numbers
    (:func:`~gis.people.identity.compact_citizen_id`: no white space, full-width characters as
    ASCII, upper case).

    >>> _normalised(" 王  小明 "), _normalised("４４０３０５１９９００５０１１２３x")
    ('王 小明', '44030519900501123X')
    """
    text = " ".join(query.split())
    return compact_citizen_id(text) if _has_digit(text) else text


def search_people(
    session: Session, *, query: str, scope: Scope, cipher: PeopleCipher, on: date
) -> tuple[list[PersonHit], bool]:
    """At most :data:`MAX_HITS` people living on ``on`` in houses the caller may see, and
    whether more match than are listed (a name shared by many: give more of it, or a number)."""
    scope.require_personal()
    text = _normalised(query)
    if looks_like_id_number(text):
        if len(text) == ID_LENGTH:
            parse_citizen_id(text, field="q")  # a mistyped number says why, as at registration
        digest = cipher.lookup_hash(text, field=SealedField.ID_NUMBER)
        match = Person.id_number_hash == digest
    elif _FIRST_GENERATION.fullmatch(text):
        raise InvalidInput(
            "a 15-digit ID number (first generation) is not stored: give the 18-digit number",
            field="q",
        )
    elif _has_digit(text):
        if len(text) == ID_LENGTH:  # the right length: which character is wrong (the 18th: Y)
            parse_citizen_id(text, field="q")
        raise InvalidInput(
            f"an ID number has {ID_LENGTH} characters (17 digits and a check character), got "
            f"{len(text)} characters; a name has no digits",
            field="q",
        )
    elif len(text) >= MIN_NAME_CHARACTERS and "\x00" not in text:
        match = Person.name.startswith(text, autoescape=True)
    else:
        raise InvalidInput(
            f"give a citizen ID number or at least {MIN_NAME_CHARACTERS} characters of a name",
            field="q",
        )
    return queries.select_people(session, match=match, scope=scope, on=on, limit=MAX_HITS)
