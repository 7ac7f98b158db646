"""``/api/grids`` and ``/api/plans`` over HTTP: GeoJSON, as-of, stats per role, plans end to end."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from shapely.geometry import LineString, box, mapping
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.clock import today_in_china
from gis.grids.classes import ClassConfig
from gis.grids.classify import classify_grids
from gis.grids.importing import import_grids
from gis.users.models import Role
from tests.access_world import GRID_FAR, GRID_OWN, World, bearer, login
from tests.grids_world import (
    COMMUNITY_EAST,
    COMMUNITY_WEST,
    EE,
    EW,
    NE,
    NW,
    SE,
    SW,
    add_residents,
    build_small_world,
    grid_file,
)

SPLIT = [(113.805, 22.5995), (113.805, 22.6105)]  # cuts SW in two, west and east


def _as(client: TestClient, world: World, role: Role) -> dict[str, str]:
    headers = bearer(login(client, world.users[role]))
    client.cookies.clear()
    return headers


def _six_live_grids(db: Session, tmp_path: Path) -> None:
    """The small world with its six live grids: four in the west community, two in the east."""
    build_small_world(db)
    path = grid_file(tmp_path / "grids.geojson", [NW, NE, SW, SE, EW, EE])
    import_grids(db, path=path, valid_from=date(2025, 1, 1), actor=Scope.system().actor)


def _draft(
    client: TestClient, headers: dict[str, str], division: str
) -> tuple[int, dict[str, int]]:
    """A new draft of ``division``: its id and its grids' ids by code."""
    created = client.post("/api/plans", json={"division_code": division}, headers=headers)
    assert created.status_code == 201, created.text
    plan_id = created.json()["id"]
    plan = client.get(f"/api/plans/{plan_id}", headers=headers).json()
    return plan_id, {f["properties"]["code"]: f["id"] for f in plan["grids"]["features"]}


def test_grids_as_geojson_pages_and_as_of(client: TestClient, world: World) -> None:
    headers = _as(client, world, Role.OFFICER)
    page = client.get("/api/grids?division=990101&limit=1", headers=headers)
    assert page.status_code == 200 and page.headers["content-type"] == "application/geo+json"
    assert [f["id"] for f in page.json()["features"]] == [GRID_OWN]
    assert "after=990101001001001" in page.headers["link"]
    rest = client.get("/api/grids?division=990101&limit=1&after=990101001001001", headers=headers)
    assert [f["id"] for f in rest.json()["features"]] == ["990101001002001"]
    # a cursor that no `next` gave is refused (it was an empty page)
    for garbage in ("zzz", "99010100100100"):
        refused = client.get(f"/api/grids?after={garbage}", headers=headers)
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["after"]
    old = client.get(f"/api/grids/{GRID_OWN}?at=2021-06-01", headers=headers).json()
    assert old["properties"]["version"] == 1 and [v["version"] for v in old["versions"]] == [1, 2]
    of_building = client.get(
        f"/api/grids?building={world.buildings['own']}", headers=headers
    ).json()
    assert [f["id"] for f in of_building["features"]] == [GRID_OWN]
    hidden = client.get(f"/api/grids?building={world.buildings['far']}", headers=headers)
    assert hidden.status_code == 404
    # nothing there: an empty list of features, not a string
    empty = client.get("/api/grids?bbox=100,30,100.1,30.1", headers=headers)
    assert empty.status_code == 200 and empty.json()["features"] == []


def test_stats_in_full_within_scope_and_suppressed_for_planners(
    client: TestClient, world: World
) -> None:
    officer = client.get(f"/api/grids/{GRID_OWN}/stats", headers=_as(client, world, Role.OFFICER))
    assert officer.status_code == 200
    full = officer.json()
    assert full["buildings"] == 1 and full["resident_count"] == 1 and full["officers_needed"] >= 1
    planner = client.get(f"/api/grids/{GRID_FAR}/stats", headers=_as(client, world, Role.PLANNER))
    suppressed = planner.json()
    assert suppressed["resident_count"] is None and suppressed["floating_share"] is None
    assert suppressed["houses"] is None  # 2 houses: suppressed too
    assert "name" not in suppressed


def test_a_plan_over_http_from_draft_to_publish(
    client: TestClient, world: World, db: Session, tmp_path: Path
) -> None:
    _six_live_grids(db, tmp_path)
    headers = _as(client, world, Role.PLANNER)
    plan_id, ids = _draft(client, headers, "970101001000")
    nw = f"{COMMUNITY_WEST}001"
    over = mapping(box(113.80, 22.61, 113.813, 22.62))
    edited = client.put(
        f"/api/plans/{plan_id}/grids/{ids[nw]}",
        headers=headers,
        json={"geometry": over, "adjust_neighbours": False},
    )
    assert edited.status_code == 200 and edited.json()["ids"] == [ids[nw]]
    impact = client.get(f"/api/plans/{plan_id}/impact", headers=headers).json()
    assert not impact["publishable"]
    assert "overlap" in {f["properties"]["kind"] for f in impact["problems"]["features"]}
    effective = (today_in_china() + timedelta(days=7)).isoformat()
    refused = client.post(
        f"/api/plans/{plan_id}/publish", json={"effective_date": effective}, headers=headers
    )
    assert refused.status_code == 409
    body = refused.json()
    assert body["problems"]["type"] == "FeatureCollection"
    assert "overlap" in body["detail"][0]["msg"]
    fixed = client.put(
        f"/api/plans/{plan_id}/grids/{ids[nw]}", headers=headers, json={"geometry": over}
    )
    assert sorted(fixed.json()["ids"]) == sorted([ids[nw], ids[f"{COMMUNITY_WEST}002"]])
    impact = client.get(f"/api/plans/{plan_id}/impact", headers=headers).json()
    assert impact["publishable"], impact["problems"]
    assert impact["diff"]["changed"] == [nw, f"{COMMUNITY_WEST}002"]
    for when, reason in (("9999-12-31", "is outside 1900-01-01"), ("2020-01-01", "in the past")):
        refused = client.post(
            f"/api/plans/{plan_id}/publish", json={"effective_date": when}, headers=headers
        )
        assert refused.status_code == 422 and reason in refused.text, refused.text
        assert refused.json()["detail"][0]["loc"] == ["effective_date"]
    published = client.post(
        f"/api/plans/{plan_id}/publish", json={"effective_date": effective}, headers=headers
    )
    assert published.status_code == 200, published.text
    assert published.json()["changed"] == [nw, f"{COMMUNITY_WEST}002"]
    later = client.get(f"/api/grids/{nw}?at={effective}", headers=headers).json()
    assert later["properties"]["version"] == 2 and later["properties"]["valid_from"] == effective
    again = client.put(
        f"/api/plans/{plan_id}/grids/{ids[nw]}", headers=headers, json={"geometry": over}
    )
    assert again.status_code == 409


def test_problems_of_the_live_grids(
    client: TestClient, world: World, db: Session, tmp_path: Path
) -> None:
    _six_live_grids(db, tmp_path)
    answer = client.get(
        "/api/grids/problems?division=970101", headers=_as(client, world, Role.ADMIN)
    )
    assert answer.status_code == 200
    assert answer.json()["errors"] == 0 and answer.json()["features"] == []


def test_class_explanations_keep_their_numbers_within_the_scope(
    client: TestClient, world: World, db: Session
) -> None:
    classify_grids(
        db, on=today_in_china(), config=ClassConfig(), actor=Scope.system().actor, prefix="990101"
    )
    officer = client.get(f"/api/grids/{GRID_OWN}", headers=_as(client, world, Role.OFFICER))
    full = officer.json()["properties"]["class_explanation"]
    assert full["indicators"] and full["decided_by"]
    planner = client.get(f"/api/grids/{GRID_OWN}", headers=_as(client, world, Role.PLANNER))
    redacted = planner.json()["properties"]["class_explanation"]
    assert redacted["class"] == full["class"] and redacted["deciding"]
    assert "indicators" not in redacted and "decided_by" not in redacted


def _apply(previous: dict[str, Any], edit: dict[str, Any]) -> dict[str, Any]:
    """What the planner page does with an edit's answer: replace rows by id, drop the removed
    ones, add the new ones; take the diff, problems and totals."""
    rows = {row["id"]: row for row in previous["grids"]}
    for removed in edit["removed"]:
        rows.pop(removed)
    rows.update({row["id"]: row for row in edit["grids"]})
    keys = ("diff", "problems", "errors", "warnings", "publishable", "notes")
    return {**previous, "grids": [rows[i] for i in sorted(rows)], **{k: edit[k] for k in keys}}


def test_each_edit_answers_with_exactly_what_changed_in_the_impact(
    client: TestClient, world: World, db: Session, tmp_path: Path
) -> None:
    small = build_small_world(db)
    for index, code in enumerate(small.buildings[COMMUNITY_WEST][::3]):
        add_residents(db, building_code=code, residents=4 + 3 * index, floating=index)
    path = grid_file(tmp_path / "grids.geojson", [NW, NE, SW, SE, EW, EE])
    import_grids(db, path=path, valid_from=date(2025, 1, 1), actor=Scope.system().actor)
    headers = _as(client, world, Role.PLANNER)
    plan_id = client.post(
        "/api/plans", json={"division_code": "970101001000"}, headers=headers
    ).json()["id"]
    url = f"/api/plans/{plan_id}"
    ids = {
        f["properties"]["code"]: f["id"]
        for f in client.get(url, headers=headers).json()["grids"]["features"]
    }
    nw, ne, sw, se = (ids[f"{COMMUNITY_WEST}00{i}"] for i in range(1, 5))
    impact = client.get(f"{url}/impact", headers=headers).json()
    edits = [
        ("put", f"{url}/grids/{nw}", {"geometry": mapping(box(113.80, 22.61, 113.816, 22.62))}),
        ("post", f"{url}/grids/{sw}/split", {"line": mapping(LineString(SPLIT))}),
        ("post", f"{url}/merge", {"grid_ids": [nw, ne]}),
        ("put", f"{url}/grids/{se}", {"geometry": mapping(box(113.806, 22.60, 113.82, 22.61))}),
    ]
    others = 0  # rows of grids the edit did not touch whose predicted class moved
    for method, path_, body in edits:
        answer = client.request(method.upper(), path_, json=body, headers=headers)
        assert answer.status_code in (200, 201), answer.text
        edit = answer.json()
        assert edit["ids"] and {f["id"] for f in edit["features"]["features"]} == set(edit["ids"])
        assert {row["id"] for row in edit["grids"]} >= set(edit["ids"])
        others += len({row["id"] for row in edit["grids"]} - set(edit["ids"]))
        expected = client.get(f"{url}/impact", headers=headers).json()
        assert _apply(impact, edit) == expected
        impact = expected
    assert others > 0
    assert impact["diff"]["retired"] == sorted(
        f"{COMMUNITY_WEST}00{i}" for i in range(1, 4)
    )  # NW and NE merged, SW split
    # a delete answers 204 (the page reads the plan again); the next edit's answer still applies
    east = {f"{COMMUNITY_EAST}00{i}": ids[f"{COMMUNITY_EAST}00{i}"] for i in (1, 2)}
    gone = client.delete(f"{url}/grids/{east[f'{COMMUNITY_EAST}002']}", headers=headers)
    assert gone.status_code == 204
    impact = client.get(f"{url}/impact", headers=headers).json()
    assert not impact["publishable"]  # the deleted grid left a gap
    whole_east = {"geometry": mapping(box(113.82, 22.60, 113.84, 22.62))}
    answer = client.put(
        f"{url}/grids/{east[f'{COMMUNITY_EAST}001']}", json=whole_east, headers=headers
    )
    assert answer.status_code == 200, answer.text
    expected = client.get(f"{url}/impact", headers=headers).json()
    assert _apply(impact, answer.json()) == expected and expected["publishable"]


def test_a_plan_target_band_out_of_range_is_422_naming_it(
    client: TestClient, world: World, db: Session
) -> None:
    build_small_world(db)
    headers = _as(client, world, Role.PLANNER)
    for band in ([1, 3_000_000_000], [1, 200_001], [0, 500], [-5, 500]):
        body = {"division_code": "970101001000", "target_households": band}
        response = client.post("/api/plans", json=body, headers=headers)
        assert response.status_code == 422, (band, response.text)
        (detail,) = response.json()["detail"]
        assert "target_households" in detail["loc"], band
    for band in ([500, 300], [300, 300]):  # in range, but not a band: refused by the service
        body = {"division_code": "970101001000", "target_households": band}
        response = client.post("/api/plans", json=body, headers=headers)
        assert response.status_code == 422, (band, response.text)
        assert response.json()["detail"][0]["loc"] == ["target_households"]
    body = {"division_code": "970101001000", "target_households": [1, 200_000]}
    created = client.post("/api/plans", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["target_households"] == [1, 200_000]


def test_a_community_plan_ranks_its_grids_with_the_rest_of_the_district(
    client: TestClient, world: World, db: Session, tmp_path: Path
) -> None:
    # the east community's live grids are outside the plan but ranked with its grids
    _six_live_grids(db, tmp_path)
    headers = _as(client, world, Role.PLANNER)
    body = {"division_code": COMMUNITY_WEST, "plan_name": "   "}
    blank = client.post("/api/plans", json=body, headers=headers)
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"] == ["body", "plan_name"]
    plan_id, ids = _draft(client, headers, COMMUNITY_WEST)
    assert set(ids) == {f"{COMMUNITY_WEST}00{n}" for n in (1, 2, 3, 4)}
    nw = f"{COMMUNITY_WEST}001"
    edited = client.put(
        f"/api/plans/{plan_id}/grids/{ids[nw]}",
        headers=headers,
        json={"geometry": mapping(box(113.80, 22.61, 113.813, 22.62)), "adjust_neighbours": False},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["ids"] == [ids[nw]]
    assert {row["id"] for row in edited.json()["grids"]} <= set(ids.values())
    unknown = max(ids.values()) + 1000
    merge = client.post(
        f"/api/plans/{plan_id}/merge", json={"grid_ids": [ids[nw], unknown]}, headers=headers
    )
    assert merge.status_code == 404
    assert merge.json()["detail"][0]["loc"] == ["grid_ids"]
    assert f"no grid {unknown}" in merge.json()["detail"][0]["msg"]
    metres = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    in_metres = {**mapping(box(113.80, 22.61, 113.813, 22.62)), "crs": metres}
    refused = client.put(f"/api/plans/{plan_id}/grids/{ids[nw]}", headers=headers,
                         json={"geometry": in_metres})  # fmt: skip
    assert refused.status_code == 422 and "EPSG::3857" in refused.text
    assert refused.json()["detail"][0]["loc"] == ["geometry.crs"]
