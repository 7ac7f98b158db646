"""The columns of generated residents: houses in, people and their records out (numpy arrays)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Strs = npt.NDArray[np.str_]
Days = npt.NDArray[np.datetime64]
Stamps = npt.NDArray[np.datetime64]

NONE, ROOM, LANDLORD, FLAT, DORM = 0, 1, 2, 3, 4
"""What a house holds: nobody, tenants of a let room, its building's landlord, a family (owning
or renting a flat), dormitory workers."""


@dataclass(frozen=True)
class Houses:
    """The houses to populate, parallel arrays in house-code order (so by building)."""

    uid: Strs
    building_uid: Strs
    use: Strs
    is_rented: Bools
    area_m2: npt.NDArray[np.float64]
    district_code: Strs
    community_code: Strs

    def __len__(self) -> int:
        return len(self.uid)


@dataclass(frozen=True)
class People:
    """One row per generated person ("" where a text is absent)."""

    name: Strs
    id_number: Strs
    sex: Strs
    birth: Days
    phone: Strs
    category: Strs
    hukou_division_code: Strs
    hukou_address: Strs
    occupation: Strs
    education: Strs
    is_key_person: Bools
    district_code: Strs

    def __len__(self) -> int:
        return len(self.name)


@dataclass(frozen=True)
class Residences:
    """One row per residence; ``end``/``deregistered_at`` NaT when open or not done."""

    person: Ints
    house: Ints
    start: Days
    end: Days
    kind: Strs
    declared_by: Strs
    declared_at: Stamps
    deregistered_at: Stamps

    def __len__(self) -> int:
        return len(self.person)


@dataclass(frozen=True)
class Declarations:
    """Landlord declarations of tenants in let houses; ``declared_at`` NaT while pending."""

    residence: Ints
    due_on: Days
    declared_at: Stamps

    def __len__(self) -> int:
        return len(self.residence)


@dataclass(frozen=True)
class Generated:
    """Everything generated for a set of houses, and the houses to update: ``let_houses`` are
    let (their landlord person index, or -1), ``landlord_homes`` are no longer let."""

    people: People
    residences: Residences
    declarations: Declarations
    let_houses: Ints
    let_landlords: Ints
    landlord_homes: Ints


def nothing() -> Generated:
    """What an empty list of houses generates."""
    ints, days, stamps = (
        np.zeros(0, np.int64),
        np.zeros(0, "datetime64[D]"),
        np.zeros(0, "datetime64[s]"),
    )
    text = np.zeros(0, "U1")
    people = People(
        text, text, text, days, text, text, text, text, text, text, np.zeros(0, bool), text
    )
    residences = Residences(ints, ints, days, days, text, text, stamps, stamps)
    return Generated(people, residences, Declarations(ints, days, stamps), ints, ints, ints)
