"""The server's messages in Chinese for the pages: every message the officer's and police's
forms can meet, made by the real code that refuses the input, has a Chinese text with no English
words left (the browser tests check the page's copy of the table gives the same text)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

import pytest
from pydantic import ValidationError
from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy.orm import Session

from gis.access.purpose import require_purpose, require_reason
from gis.access.scope import Scope
from gis.clock import checked_date
from gis.codes import format_code, parse_code
from gis.db import RACE_CONFLICTS, race_conflict_named
from gis.errors import GisError
from gis.events.lifecycle import check_step
from gis.events.models import EventStatus
from gis.events.photos import check_photo
from gis.events.places import building_place, check_code_kind, house_place, no_grid_reason
from gis.events.queries import Place
from gis.grids.impact import notes_of
from gis.grids.plan_edits import geometry_from_geojson
from gis.grids.schemas import GridShape
from gis.grids.topology import check_grids
from gis.houses.editing import HouseCreate
from gis.people.corrections import _previous_to_reopen
from gis.people.crypto import KEY_BYTES, PeopleCipher
from gis.people.identity import (
    normalise_credit_code,
    normalise_passport,
    normalise_phone,
    parse_citizen_id,
)
from gis.people.models import Person, Residence
from gis.people.overlaps import refuse_before_birth
from gis.people.periods import checked_past_date, describe_period, make_period
from gis.people.registry import unknown_division_reason
from gis.people.schemas import Deregistration
from gis.search.service import search_people
from gis.users.models import Role
from maps.error_text import translate

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "data" / "vectors.json"
TODAY = date(2026, 11, 24)
ENGLISH_WORD = re.compile(r"[a-z]{3,}")
GOOD_CODE = format_code(community_code="440305005003", structure_class=1, seq=123, unit=1)
WRONG_CODE = GOOD_CODE[:24] + ("0" if GOOD_CODE[24] != "0" else "1")


def _refusal(call: Callable[[], object]) -> str:
    with pytest.raises(GisError) as caught:
        call()
    return caught.value.message


def real_messages() -> list[str]:
    """Messages as the service makes them, for inputs a person typing into a form gets wrong."""
    police = Scope(user_name="p", role=Role.POLICE, division_prefix="440305")
    planner = Scope(user_name="q", role=Role.PLANNER)
    # what the refusals below never reach: a session without a database (a query would fail)
    # and a cipher of a throwaway key
    no_database = Session()
    cipher = PeopleCipher(bytes(KEY_BYTES))
    invalid_ids = json.loads(VECTORS.read_text())["citizen_id_invalid"]
    messages = [
        _refusal(partial(parse_citizen_id, vector["value"], today=TODAY)) for vector in invalid_ids
    ]
    messages += [
        _refusal(lambda: parse_citizen_id("11010519491231002", today=TODAY)),
        _refusal(lambda: parse_citizen_id("11010519491231002A", today=TODAY)),
        _refusal(lambda: parse_citizen_id("11010520300101001X", today=TODAY)),
        _refusal(lambda: normalise_phone("12345")),
        _refusal(lambda: normalise_passport("ab")),
        _refusal(lambda: normalise_credit_code("91110000600037341A")),
        _refusal(
            lambda: checked_past_date(
                date(2027, 1, 1), today=TODAY, field="moved_in", what="an arrival"
            )
        ),
        _refusal(
            lambda: checked_past_date(
                date(2027, 1, 1), today=TODAY, field="moved_out", what="a departure"
            )
        ),
        _refusal(lambda: make_period(date(2026, 3, 1), date(2026, 2, 1))),
        _refusal(lambda: require_purpose(police, None)),
        _refusal(lambda: require_purpose(police, "查一下")),
        _refusal(lambda: require_reason(None)),
        _refusal(lambda: planner.require_role(Role.OFFICER, Role.ADMIN)),
        _refusal(lambda: check_photo(b"meeting notes, not a photo")),
        _refusal(lambda: check_photo(b"")),
        _refusal(
            lambda: check_step(
                current=EventStatus.CLOSED, target=EventStatus.DISPATCHED, event_id=7
            )
        ),
    ]
    messages += [
        _refusal(lambda: check_step(current=EventStatus.REPORTED, target=EventStatus.CLOSED,
                                    event_id=8)),
        _refusal(lambda: check_step(current=EventStatus.ACCEPTED, target=EventStatus.REPORTED,
                                    event_id=9)),
        _refusal(lambda: search_people(no_database, query="张", scope=police, cipher=cipher,
                                       on=TODAY)),
        _refusal(lambda: search_people(no_database, query="张1", scope=police, cipher=cipher,
                                       on=TODAY)),
        _refusal(lambda: search_people(no_database, query="513232610731822", scope=police,
                                       cipher=cipher, on=TODAY)),
        _refusal(lambda: refuse_before_birth(Person(birth_date=date(2010, 1, 1)),
                                              date(2009, 5, 1), field="moved_in",
                                              what="a move-in")),
        _refusal(lambda: checked_past_date(date(2025, 1, 1), today=TODAY, field="x",
                                           what="a deregistration",
                                           since=("departure", date(2025, 2, 1)))),
    ]  # fmt: skip
    messages += [
        _refusal(lambda: parse_code(WRONG_CODE, field="house_code")),
        _refusal(lambda: parse_code(WRONG_CODE[:-2], field="house_code")),
        _refusal(lambda: parse_code(WRONG_CODE[:23] + "²" + WRONG_CODE[24], field="house_code")),
        _refusal(lambda: parse_code(f"{WRONG_CODE[:11]}-{WRONG_CODE[11:]}", field="house_code")),
    ]
    # as gis.people.service words a refused registration, move or departure
    own = describe_period(make_period(date(2024, 1, 1), None))
    new = describe_period(make_period(date(2025, 3, 1), None))
    messages += [
        f"the person's primary residence {own} overlaps the new one {new}: "
        "give ends_previous (a move from elsewhere), or deregister it first",
        f"a primary residence of the person outside your scope overlaps {new}",
        "an arrival (1990-01-01) before the person's birth (1991-04-02)",
        "already deregistered on 2026-03-07",
        "no primary residence of the person ended on 2025-04-01, the day this one began",
        "the residence that ended on 2025-04-01 is outside your grids: an administrator reopens it",
        "the primary residence that ended on 2025-04-01 was deregistered as a departure, not ended "
        "by this registration: it stays ended; void without reopen_previous",
    ]
    # a void asked to reopen what the residence ended
    ended = make_period(date(2025, 4, 1), date(2025, 6, 1))
    messages += [
        _refusal(lambda: _previous_to_reopen(no_database, scope=police,
                                             residence=Residence(is_primary=False,
                                                                 period=ended))),
        _refusal(lambda: _previous_to_reopen(no_database, scope=police,
                                             residence=Residence(is_primary=True,
                                                                 period=ended))),
    ]  # fmt: skip
    # a race lost to another writer (gis.db.race_conflict), each constraint and any other
    messages += [race_conflict_named(name).message for name in (*RACE_CONFLICTS, "uq_houses_code")]
    return (
        messages + house_refusals() + event_refusals() + date_refusals() + plan_problems()
        + plan_edit_refusals()
        + notes_of(estimated=True)  # the planner's impact notes
    )  # fmt: skip


def event_refusals() -> list[str]:
    """What the officer map's event form (a report at the building of the panel) and its step
    buttons can meet, and the other refusals of a place (a code of the wrong kind), as
    gis.events words them."""
    building = format_code(community_code="440305005003", structure_class=1, seq=123)
    retired = Place(uuid.uuid4(), None, 113.9, 22.5, "440305005003", is_retired=True)
    return [
        _refusal(lambda: building_place({}, building, field="building_code")),
        _refusal(lambda: building_place({building: retired}, building, field="building_code")),
        _refusal(lambda: house_place({}, GOOD_CODE, field="house_code")),
        _refusal(
            lambda: check_code_kind(
                parse_code(GOOD_CODE), column="building_code", field="building_code"
            )
        ),
        _refusal(
            lambda: check_code_kind(parse_code(building), column="house_code", field="house_code")
        ),
        no_grid_reason(is_point=False, crs="crs"),
        no_grid_reason(is_point=True, crs="crs"),
        "the place is not in one of your grids",
        "officer 'zs01' could never see an event in no grid: dispatch to an admin or a department",
    ]


def date_refusals() -> list[str]:
    """A date not written YYYY-MM-DD (a date field's input sends that form; an old browser
    with a text field may not), or one the calendar has not."""
    messages = []
    for value in ("2026/1/5", "2026-02-30"):
        with pytest.raises(ValidationError) as caught:
            Deregistration.model_validate({"moved_out": value})
        messages += [error["msg"] for error in caught.value.errors()]
    return messages


def house_refusals() -> list[str]:
    """What the form adding a house to a building can meet: the request's shape refused by the
    real model, and, as gis.houses.editing words them, the refusals that need the database."""
    wrong = [
        {"floor": 500}, {"floor": -20}, {"floor": 1.5}, {"room": ""}, {"room": "x" * 21},
        {"area_m2": 0}, {"area_m2": 100_000}, {"rooms": 0}, {"rooms": 1000},
    ]  # fmt: skip
    messages = []
    for values in wrong:
        with pytest.raises(ValidationError) as caught:
            HouseCreate.model_validate(values)
        messages += [error["msg"] for error in caught.value.errors()]
    return messages + [
        "floor 30 room 3001 of this building is already house 440305005001-1-000131-00102-7",
        "room 3001 of this building is already house 440305005001-1-000131-00102-7",
        "building 440305005001-1-000131-00000-X is retired",
        "building 440305005001-1-000131-00000-X has no unit number left (99999 is the last)",
    ]


def plan_problems() -> list[str]:
    """What the planner page lists: the problems of a set of grids, as the topology rules find
    them (overlap, gap, sliver, a grid reaching into another community, two parts, an invalid
    polygon, a community without a boundary or without grids)."""
    west = MultiPolygon([box(113.80, 22.60, 113.82, 22.62)])
    east = MultiPolygon([box(113.82, 22.60, 113.84, 22.62)])
    north = MultiPolygon([box(113.80, 22.62, 113.84, 22.64)])
    communities = {"440305005001": west, "440305005002": east, "440305005003": north,
                   "440305005004": None}  # fmt: skip
    bowtie = Polygon([(113.80, 22.60), (113.81, 22.61), (113.81, 22.60), (113.80, 22.61)])
    grids = [
        GridShape("g0", "440305005001", box(113.80, 22.60, 113.8105, 22.62)),
        GridShape("g1", "440305005001", box(113.81, 22.60, 113.825, 22.6199)),
        GridShape("g2", "440305005002", box(113.825, 22.60, 113.84, 22.61)),
        GridShape("g3", "440305005002", box(113.825, 22.61, 113.84, 22.61999999)),
        GridShape("g4", "440305005003", MultiPolygon([box(113.80, 22.62, 113.81, 22.63),
                                                      box(113.82, 22.63, 113.83, 22.64)])),
        GridShape("g5", "440305005004", box(113.90, 22.60, 113.91, 22.61)),
        GridShape("g6", "440305005003", bowtie),
    ]  # fmt: skip
    report = check_grids(grids, communities=communities)
    messages = [problem.message for problem in report.problems]
    sliver = [  # 0.00000001° × 0.02° ≈ 2.3 m² left uncovered: a warning
        GridShape("g7", "440305005002", box(113.82, 22.60, 113.84, 22.61)),
        GridShape("g8", "440305005002", box(113.82, 22.61, 113.84, 22.61999999)),
    ]
    messages += [problem.message for problem in check_grids(sliver, communities={
        "440305005002": east}).problems]  # fmt: skip
    messages.append(
        check_grids([], communities=communities, only_communities=["440305005001"])
        .problems[0]
        .message
    )
    return messages


def _square(lon: float, lat: float, size: float = 0.001) -> list[list[float]]:
    return [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]


def plan_edit_refusals() -> list[str]:
    """What the planner page shows when an edit or a publishing is refused: the shapes a drawn
    grid or cutting line is refused for (made by the real check), and, as the plan services
    word them, the refusals that need the database."""
    polygon = {"type": "Polygon", "coordinates": [_square(113.9, 22.5)]}
    many_vertices = [[113.9 + i * 1e-6, 22.5] for i in range(20_001)] + [[113.9, 22.6]] * 2
    many_vertices[-1] = many_vertices[0]
    bad_shapes = [
        {"type": "MultiPolygon", "coordinates": [[_square(113.9, 22.5)], [_square(113.95, 22.5)]]},
        {"type": "Polygon", "coordinates": [many_vertices]},
        {"type": "Point", "coordinates": [113.9, 22.5]},
        {"type": "Polygon", "coordinates": []},
        {"type": "Polygon", "coordinates": [_square(113.9, 95.0)]},
        {"type": "Polygon", "coordinates": [_square(190.0, 22.5)]},
        polygon | {"crs": {"type": "name", "properties": {"name": "EPSG:3857"}}},
    ]
    messages = [
        _refusal(partial(geometry_from_geojson, shape, field="geometry")) for shape in bad_shapes
    ]
    line = {"type": "LineString", "coordinates": [[113.9, 22.5], [200.0, 22.5]]}
    messages += [
        _refusal(lambda: geometry_from_geojson(polygon, field="line", kind="line")),
        _refusal(lambda: geometry_from_geojson(line, field="line", kind="line")),
        _refusal(lambda: checked_date(date(2200, 1, 1), field="effective_date")),
    ]
    first = plan_problems()[0]
    return messages + [
        "the grid lies in no community",
        "the grids do not touch: a merged grid must be one polygon",
        "a plan covers a county (district), a township or a community",
        f"plan 3 breaks 2 hard rule(s), the first: {first} at 113.912345,22.536789",
        "the live grids changed since plan 3 was drafted (440305005001001): draft a new plan",
        "grid 440305005001001 has a version from 2026-12-01: the effective date must be after it",
        "the effective date cannot be in the past",
        "plan 3 is published: only a draft can change",
        "the plan has no grid 17",
        "440305005000 is a township, not a community: a grid belongs to a community (village "
        "level)",
        "community 440305006001 is not in the plan's division 440305005000",
    ]


def test_every_message_a_form_can_meet_reads_in_chinese() -> None:
    for message in real_messages():
        chinese = translate(message)
        assert chinese is not None, message
        assert not ENGLISH_WORD.search(chinese), (message, chinese)


def test_what_a_message_names_is_kept() -> None:
    assert (
        translate(
            "the check character does not match: expected '7', got '1' (ISO 7064 MOD 11-2); "
            "the number is mistyped"
        )
        == "校验码不符：应为7，实为1，号码有误"
    )
    overlap = translate(
        "the person's primary residence [2024-01-01, 2025-03-01) overlaps the new one "
        "[2025-02-01, open): deregister it first, or move"
    )
    assert overlap == (
        "此人的主要居住登记（2024-01-01起至2025-03-01前）与新登记（2025-02-01起至今）重叠："
        "请先注销它，或办理迁移"
    )
    assert translate("Value error, is blank (white space only)") == "不能为空（只有空白）"
    assert (
        translate(
            "Value error, may not contain control characters (line breaks, tabs, escapes, "
            "direction overrides)"
        )
        == "不能包含控制字符（换行、制表符、文字方向控制符等）"
    )
    assert (
        translate(
            "event 8 is reported and cannot be closed: only a checked event can be closed "
            "(next steps from reported: accepted, rejected)"
        )
        == "事件8当前为已上报，不能转为已结案：只有已核查的事件才能转为已结案"
        "（现在可转为：已受理、不予受理）"
    )
    assert translate("a move-in (2009-05-01) before the person's birth (2010-01-01)") == (
        "2009-05-01早于此人的出生日期2010-01-01"
    )
    assert translate("give at least one of phone, occupation") == "请至少修改一项"
    assert translate("a date is written YYYY-MM-DD (e.g. 2026-01-05)") == (
        "日期应写作YYYY-MM-DD（如2026-01-05）"
    )
    assert translate(unknown_division_reason("440305999999")) == (
        "440305999999不是已知的行政区划：本系统未载入此乡镇或村（只填县级区划则为440305）"
    )
    assert translate("Extra inputs are not permitted") == "不接受此字段"
    assert translate("no grid 999999999999999") == "没有网格999999999999999"
    assert (
        translate("Input should be 'owner', 'family', 'tenant', 'dormitory' or 'temporary'")
        == "应为以下之一：'owner', 'family', 'tenant', 'dormitory' or 'temporary'"
    )
    assert translate("invalid polygon: Ring Self-intersection[113.8 22.6]") == (
        "多边形无效：环自相交，位置113.8 22.6"
    )
    assert translate("a message nobody wrote a pattern for") is None
