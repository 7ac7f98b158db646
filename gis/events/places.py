"""Which buildings and houses an event may be reported at: a building code under
``building_code`` and a house code under ``house_code``, a building that is not retired, a live
house (active, in a building that is not retired), in a grid. One rule and one set of words for
a report over HTTP and a row of ``gridhouse import events``, so that both accept the same places
and refuse the others alike.

>>> building_place({}, "440305005001100012300000X", field="building_code")
Traceback (most recent call last):
gis.errors.NotFound: building_code: no building has the code 440305005001100012300000X
"""

from __future__ import annotations

from collections.abc import Mapping

from gis.codes import HouseCode
from gis.errors import Conflict, InvalidInput, NotFound
from gis.events.queries import Place


def check_code_kind(code: HouseCode, *, column: str, field: str) -> str:
    """``code`` as given under ``column`` (``building_code`` or ``house_code``), refused naming
    ``field`` when it is the other kind of code (a house's unit is not ``00000``, a
    building's is).

    >>> from gis.codes import parse_code
    >>> house = parse_code("4403050050011000123000018")
    >>> check_code_kind(house, column="house_code", field="house_code")
    '4403050050011000123000018'
    >>> check_code_kind(house, column="building_code", field="building_code")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    gis.errors.InvalidInput: building_code: 4403050050011000123000018 is a house code, not a ...
    """
    if column == "building_code" and not code.is_building:
        raise InvalidInput(f"{code.code} is a house code, not a building code", field=field)
    if column == "house_code" and code.is_building:
        raise InvalidInput(
            "this is a building's code (unit 00000): put it under building_code", field=field
        )
    return code.code


def building_place(places: Mapping[str, Place], code: str, *, field: str) -> Place:
    """The place of building ``code`` among ``places`` (from
    :func:`gis.events.queries.select_building_places`): NotFound naming ``field`` when it is
    not there (never issued, or out of the caller's scope), Conflict when it is retired (an
    event at a demolished building would be at nobody's door)."""
    place = places.get(code)
    if place is None:
        raise NotFound(f"no building has the code {code}", field=field)
    if place.is_retired:
        raise Conflict(f"building {code} is retired", field=field)
    return place


def house_place(places: Mapping[str, Place], code: str, *, field: str) -> Place:
    """The place of house ``code`` among ``places`` (from
    :func:`gis.events.queries.select_house_places`, live houses only): NotFound naming
    ``field`` otherwise, as a registration at a house says it."""
    place = places.get(code)
    if place is None:
        raise NotFound(f"no live house has the code {code}", field=field)
    return place


def no_grid_reason(*, is_point: bool, crs: str) -> str:
    """Why a place in no grid is refused (nobody would ever see an event there); for a point,
    a hint at its CRS, named as the caller names it (``crs``, ``--crs``), the usual cause.

    >>> no_grid_reason(is_point=True, crs="--crs")
    'the place lies in no grid (check --crs)'
    """
    return "the place lies in no grid" + (f" (check {crs})" if is_point else "")
