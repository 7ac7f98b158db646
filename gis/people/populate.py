"""Loading generated residents into the database: read the houses, generate, seal, COPY.

Bulk all the way: the houses are read in one query, people are generated as numpy columns
(:mod:`gis.people.generation`), ID numbers and phones sealed in one pass, and people, residences
and declarations written with COPY; the houses that are let get their landlords in one UPDATE.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from gis.people import generation, queries
from gis.people.counties import CountyTable
from gis.people.crypto import PeopleCipher, SealedField
from gis.people.generated import Generated, Houses
from gis.people.identity import mask_any_id
from gis.people.periods import WorkCalendar
from gis.people.population_queries import (
    analyze_people_tables,
    count_residents_in_communities,
    select_houses_to_populate,
    update_lettings,
)

GENERATOR = "generator"


@dataclass(frozen=True)
class PopulateReport:
    houses: int
    people: int
    residences: int
    declarations: int
    seconds: float
    skipped: bool = False


def _uuids(rng: np.random.Generator, count: int) -> list[str]:
    """Random (version 4) UUIDs as text, deterministic for the generator's seed, in ascending
    order: b-tree indexes then grow at their right edge instead of at random pages."""
    raw = rng.integers(0, 256, size=(count, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    raw = raw[np.lexsort(raw.T[::-1])]
    data = raw.tobytes()
    return [str(uuid.UUID(bytes=data[i : i + 16])) for i in range(0, len(data), 16)]


def _text(values: np.ndarray) -> list[str | None]:
    """Text values with "" as NULL."""
    return [value or None for value in values.tolist()]


def _days(values: np.ndarray) -> list[str | None]:
    return [
        None if value == "NaT" else value
        for value in values.astype("datetime64[D]").astype(str).tolist()
    ]


def _stamps(values: np.ndarray) -> list[str | None]:
    """Naive China times as ``timestamptz`` text."""
    text = values.astype("datetime64[s]").astype(str).tolist()
    return [None if value == "NaT" else value + "+08" for value in text]


def people_rows(
    generated: Generated, *, uids: Sequence[str], cipher: PeopleCipher
) -> Iterator[tuple[Any, ...]]:
    """``people`` rows (``PEOPLE_COPY_COLUMNS`` order), identifiers sealed, hashed, masked."""
    people = generated.people
    ids = _text(people.id_number)
    phones = _text(people.phone)
    id_enc = cipher.seal_many(ids, field=SealedField.ID_NUMBER)
    id_hash = cipher.hash_many(ids, field=SealedField.ID_NUMBER)
    phone_enc = cipher.seal_many(phones, field=SealedField.PHONE)
    phone_hash = cipher.hash_many(phones, field=SealedField.PHONE)
    id_masked = [mask_any_id(value) if value else None for value in ids]
    phone_masked = [value[:3] + "****" + value[-4:] if value else None for value in phones]
    columns = zip(
        uids, people.name.tolist(), id_enc, id_hash, id_masked, phone_enc, phone_hash,
        phone_masked, people.sex.tolist(), _days(people.birth),
        _text(people.hukou_division_code), _text(people.hukou_address),
        people.category.tolist(), _text(people.occupation), _text(people.education),
        people.is_key_person.tolist(), people.district_code.tolist(), strict=True,
    )  # fmt: skip
    for row in columns:
        yield (*row, None)


def populate(
    session: Session,
    *,
    cipher: PeopleCipher,
    communities: Sequence[str],
    divisions_dir: Path,
    seed: int = 20260501,
    as_of: date,
    calendar: WorkCalendar | None = None,
    floating_share: float | None = None,
    on_progress: Callable[[str], None] = lambda _: None,
) -> PopulateReport:
    """Generate the residents of every live house in ``communities`` and load them; nothing
    happens when these communities already have residents (idempotent)."""
    started = time.perf_counter()
    if count_residents_in_communities(session, communities=communities):
        return PopulateReport(0, 0, 0, 0, time.perf_counter() - started, skipped=True)
    on_progress("reading houses")
    rows = select_houses_to_populate(session, communities=communities)
    houses = Houses(
        uid=np.array([row[0] for row in rows], dtype=str),
        building_uid=np.array([row[1] for row in rows], dtype=str),
        use=np.array([row[2] for row in rows], dtype=str),
        is_rented=np.array([row[3] for row in rows], dtype=bool),
        area_m2=np.array([row[4] for row in rows], dtype=np.float64),
        district_code=np.array([row[5] for row in rows], dtype=str),
        community_code=np.array([row[6] for row in rows], dtype=str),
    )
    on_progress(f"generating residents of {len(houses):,} houses")
    counties = CountyTable.load(divisions_dir)
    generated = generation.generate_residents(
        houses, seed=seed, as_of=as_of, counties=counties,
        calendar=calendar or WorkCalendar(), floating_share=floating_share,
    )  # fmt: skip
    return load_generated(
        session, generated=generated, houses=houses, cipher=cipher, seed=seed,
        started=started, on_progress=on_progress,
    )  # fmt: skip


def load_generated(
    session: Session,
    *,
    generated: Generated,
    houses: Houses,
    cipher: PeopleCipher,
    seed: int,
    started: float,
    on_progress: Callable[[str], None] = lambda _: None,
) -> PopulateReport:
    """COPY generated people, residences and declarations; record lettings and landlords."""
    rng = np.random.default_rng(seed + 1)
    person_uids = _uuids(rng, len(generated.people))
    residences = generated.residences
    residence_uids = _uuids(rng, len(residences))
    on_progress(f"writing {len(person_uids):,} people")
    queries.copy_people(session, people_rows(generated, uids=person_uids, cipher=cipher))
    on_progress(f"writing {len(residence_uids):,} residences")
    house_uids = houses.uid.tolist()
    starts, ends = _days(residences.start), _days(residences.end)
    queries.copy_residences(
        session,
        (
            (uid, person_uids[p], house_uids[h], f"[{s},{e or ''})", kind, True, by, at,
             GENERATOR, dereg)
            for uid, p, h, s, e, kind, by, at, dereg in zip(
                residence_uids, residences.person.tolist(), residences.house.tolist(), starts,
                ends, residences.kind.tolist(), residences.declared_by.tolist(),
                _stamps(residences.declared_at), _stamps(residences.deregistered_at),
                strict=True,
            )
        ),
    )  # fmt: skip
    declarations = generated.declarations
    made = _stamps(declarations.declared_at)
    index = declarations.residence.tolist()
    queries.copy_declarations(
        session,
        (
            (residence_uids[r], house_uids[residences.house[r]],
             person_uids[residences.person[r]], starts[r], due, at,
             "landlord" if at else None)
            for r, due, at in zip(index, _days(declarations.due_on), made, strict=True)
        ),
    )  # fmt: skip
    on_progress("recording landlords")
    landlords = [person_uids[p] if p >= 0 else None for p in generated.let_landlords.tolist()]
    update_lettings(
        session,
        let=[house_uids[h] for h in generated.let_houses.tolist()],
        landlords=landlords,
        not_let=[house_uids[h] for h in generated.landlord_homes.tolist()],
    )
    session.flush()
    analyze_people_tables(session)
    return PopulateReport(
        houses=len(houses),
        people=len(person_uids),
        residences=len(residence_uids),
        declarations=len(declarations),
        seconds=time.perf_counter() - started,
    )
