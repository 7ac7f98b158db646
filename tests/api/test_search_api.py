"""``GET /api/search/people``: by name or ID number, within the scope, masked, audited."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis.audit.models import AuditEntry
from gis.houses.models import House
from gis.people.crypto import PeopleCipher, SealedField
from gis.people.models import Person
from gis.search.service import searched_for
from gis.users.models import Role
from tests.access_world import World, bearer, login
from tests.people_world import CANARY, RESIDENTS, add_person, add_residence, citizen_id

CASE = "A4403052026050001"


def search(client: TestClient, token: str, q: str, purpose: str | None = None) -> Response:
    params = {"q": q} | ({"purpose": purpose} if purpose else {})
    return client.get("/api/search/people", params=params, headers=bearer(token))


def test_officers_find_their_residents_by_name_or_id_number(
    client: TestClient, world: World, db: Session
) -> None:
    token = login(client, world.users[Role.OFFICER])
    name, id_number, _ = RESIDENTS["own"]
    by_name = search(client, token, name[:2])
    assert by_name.status_code == 200
    (hit,) = by_name.json()["items"]
    assert hit["name"] == name and hit["houses"] == [world.objects["houses"]["own"]]
    assert hit["id_number"] != id_number and hit["id_number"].endswith(id_number[-4:])
    by_id = search(client, token, id_number.lower())
    assert [h["name"] for h in by_id.json()["items"]] == [name]
    # people outside the officer's grids are not found, whatever the query
    for query in (RESIDENTS["other"][0], CANARY.name, CANARY.id_number):
        assert search(client, token, query).json()["items"] == []
    officer = world.users[Role.OFFICER]
    rows = db.execute(
        select(AuditEntry.target_codes).where(
            AuditEntry.user_name == officer, AuditEntry.action == "people.search"
        )
    ).all()
    # whom each search was for, found or not: names as typed, an ID number as the keyed hash
    # stored with the person (no form of the number itself)
    searched = [codes[0] for (codes,) in rows]
    assert f"search:{name[:2]}" in searched and f"search:{CANARY.name}" in searched
    person = db.scalar(select(Person).where(Person.name == name))
    assert person is not None and person.id_number_hash is not None
    assert f"search:id:{person.id_number_hash.hex()}" in searched
    masked = f"{id_number[:6]}{'*' * 8}{id_number[-4:].upper()}"
    assert not any(id_number.upper() in code or masked in code for code in searched)


def test_police_state_a_purpose_and_planners_may_not_search(
    client: TestClient, world: World
) -> None:
    police = login(client, world.users[Role.POLICE])
    assert search(client, police, RESIDENTS["other"][0]).status_code == 422
    found = search(client, police, RESIDENTS["other"][0], purpose=CASE)
    assert [h["name"] for h in found.json()["items"]] == [RESIDENTS["other"][0]]
    planner = login(client, world.users[Role.PLANNER])
    assert search(client, planner, "王自").status_code == 403
    officer = login(client, world.users[Role.OFFICER])
    assert search(client, officer, "王").status_code == 422


def test_part_of_an_id_number_or_a_mistyped_one_is_refused_and_never_kept(
    client: TestClient, world: World, cipher: PeopleCipher
) -> None:
    token = login(client, world.users[Role.OFFICER])
    _, id_number, _ = RESIDENTS["own"]
    wrong = id_number[:17] + ("1" if id_number[17] != "1" else "2")
    for query, reason in (
        (id_number[:17], "an ID number has 18 characters"),
        (id_number[:15], "a 15-digit ID number (first generation) is not stored"),
        (wrong, "the check character does not match"),
    ):
        refused = search(client, token, query)
        assert refused.status_code == 422, (query, refused.text)
        assert refused.json()["detail"][0]["loc"] == ["q"]
        assert reason in refused.json()["detail"][0]["msg"]
        # what an audit row keeps of it: neither the number nor its digits
        kept = searched_for(query, cipher=cipher)
        hashed = kept.startswith("search:id:") and len(kept) == len("search:id:") + 64
        assert kept == "search:id:refused" or (hashed and len(query) == 18), kept
        assert id_number[:6] not in kept


def test_an_id_number_typed_in_groups_or_full_width_x_and_a_passport_number_are_found(
    client: TestClient, world: World, db: Session, cipher: PeopleCipher
) -> None:
    """An ID number typed in groups (440305 19900501 123X) or with a full-width Ｘ was refused,
    and an overseas resident, registered under a passport number, could not be found by it."""
    token = login(client, world.users[Role.OFFICER])
    name, id_number, _ = RESIDENTS["own"]
    grouped = f"{id_number[:6]} {id_number[6:14]} {id_number[14:]}"
    assert [h["name"] for h in search(client, token, grouped).json()["items"]] == [name]
    person = db.scalar(select(Person).where(Person.name == name))
    assert person is not None
    # the same person under a number ending in X, typed with a Chinese input method
    x_number = "11010519491231002X"
    person.id_number_hash = cipher.lookup_hash(x_number, field=SealedField.ID_NUMBER)
    db.flush()
    for typed in ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002ｘ"):
        found = search(client, token, typed)
        assert [h["name"] for h in found.json()["items"]] == [name], (typed, found.text)
    person.id_number_hash = cipher.lookup_hash("E65843722", field=SealedField.ID_NUMBER)
    db.flush()
    for typed in ("E65843722", "e65843722"):
        found = search(client, token, typed)
        assert [h["name"] for h in found.json()["items"]] == [name], (typed, found.text)
        assert found.json()["more"] is False
    assert searched_for("e65843722", cipher=cipher) == f"search:id:{person.id_number_hash.hex()}"


def test_eighteen_characters_that_are_no_id_number_say_which_is_wrong(
    client: TestClient, world: World, db: Session, cipher: PeopleCipher
) -> None:
    """``44030519900501123Y`` was refused as "has 18 characters …, got 18 characters": the
    refusal now names the wrong character as registration does; full-width digits are read as
    0-9, as registration reads them, so the number finds its person (and the audit row keeps
    the person's keyed hash)."""
    token = login(client, world.users[Role.OFFICER])
    name, id_number, _ = RESIDENTS["own"]
    full_width = id_number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for query, reason in (
        (id_number[:17] + "Y", "the check character (the 18th) must be a digit or X"),
        (full_width[:17] + "Y", "the check character (the 18th) must be a digit or X"),
        (id_number[:16] + "AX", "the first 17 characters must be digits"),
    ):
        refused = search(client, token, query)
        assert refused.status_code == 422, (query, refused.text)
        [error] = refused.json()["detail"]
        assert error["loc"] == ["q"] and error["msg"] == reason, (query, error)
        assert searched_for(query, cipher=cipher) == "search:id:refused"
    found = search(client, token, full_width)
    assert found.status_code == 200, found.text
    assert [hit["name"] for hit in found.json()["items"]] == [name]
    person = db.scalar(select(Person).where(Person.name == name))
    assert person is not None and person.id_number_hash is not None
    assert searched_for(full_width, cipher=cipher) == f"search:id:{person.id_number_hash.hex()}"


def test_a_name_many_share_says_more_are_left_out(
    client: TestClient, world: World, db: Session, cipher: PeopleCipher
) -> None:
    """Twenty of 191 people of one name were listed, and nothing said the list was cut."""
    house = db.scalars(select(House).where(House.code == world.objects["houses"]["own"])).one()
    for seq in range(21):
        born = date(1990, 1, 1) + timedelta(days=seq)
        number = citizen_id("110105", born, 500 + seq)
        person = add_person(db, cipher, name="同名人", id_number=number, phone=None, birth=born)
        db.flush()
        add_residence(db, person=person, house=house)
    db.flush()
    token = login(client, world.users[Role.OFFICER])
    many = search(client, token, "同名人").json()
    assert len(many["items"]) == 20 and many["more"] is True
    few = search(client, token, RESIDENTS["own"][0]).json()
    assert len(few["items"]) == 1 and few["more"] is False
