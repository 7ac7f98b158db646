"""Real county codes for generated ID numbers: which existed in which year, and where people come
from. Read from the shared division lists (``areas.csv``, ``cities.csv``, ``provinces.csv``) and
checked against python-stdnum's table of county codes, so that every generated ID number passes
:func:`gis.people.identity.parse_citizen_id`."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from gis.people.identity import region_in_use, region_years
from gis.people.names import GENERIC_ORIGINS, SHENZHEN_ORIGINS

FIRST_YEAR, LAST_YEAR = 1900, 2035
Strs = npt.NDArray[np.str_]
Ints = npt.NDArray[np.int64]
_CHECK = np.array(list("10X98765432"))
_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_VILLAGES = (
    "新村",
    "东村",
    "西村",
    "石桥村",
    "李家庄",
    "上屯",
    "下坝",
    "河口村",
    "大树村",
    "桥头村",
)
_ROADS = ("南海大道", "工业八路", "望海路", "后海大道", "蛇口新街", "兴华路", "东滨路", "海德路")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class CountyTable:
    """County codes known to python-stdnum, with names and the years each was in use."""

    codes: Strs
    province: Strs
    city: Strs
    label: Strs  # 省市县 for addresses
    in_use: npt.NDArray[np.bool_]  # [county, year - FIRST_YEAR]

    @classmethod
    def load(cls, divisions_dir: Path) -> CountyTable:
        provinces = {r["code"]: r["name"] for r in _rows(divisions_dir / "provinces.csv")}
        cities = {r["code"]: r["name"] for r in _rows(divisions_dir / "cities.csv")}
        codes, labels = [], []
        for row in _rows(divisions_dir / "areas.csv"):
            code = row["code"].strip()
            if len(code) != 6 or code.endswith(("00", "01")) or region_years(code) is None:
                continue
            city_name = cities.get(code[:4], "")
            city_name = "" if city_name in {"市辖区", "县"} else city_name
            codes.append(code)
            labels.append(f"{provinces.get(code[:2], '')}{city_name}{row['name']}")
        years = range(FIRST_YEAR, LAST_YEAR + 1)
        in_use = np.array([[region_in_use(code, year) for year in years] for code in codes])
        array = np.array(codes)
        return cls(
            codes=array,
            province=np.strings.slice(array, 0, 2),
            city=np.strings.slice(array, 0, 4),
            label=np.array(labels),
            in_use=in_use,
        )

    def _valid(self, county: Ints, years: Ints) -> npt.NDArray[np.bool_]:
        column = np.clip(years - FIRST_YEAR, 0, LAST_YEAR - FIRST_YEAR)
        return np.asarray(self.in_use[county, column])

    def _sample_from(
        self, rng: np.random.Generator, pool: Ints, years: Ints, *, rounds: int = 12
    ) -> Ints:
        """A county of ``pool`` in use in each year (redrawn until it is; else always-used)."""
        picked = pool[rng.integers(0, len(pool), len(years))]
        for _ in range(rounds):
            bad = ~self._valid(picked, years)
            if not bad.any():
                return picked
            picked[bad] = pool[rng.integers(0, len(pool), int(bad.sum()))]
        always = pool[self.in_use[pool].all(axis=1)]
        fallback = always if len(always) else np.flatnonzero(self.in_use.all(axis=1))
        bad = ~self._valid(picked, years)
        picked[bad] = fallback[rng.integers(0, len(fallback), int(bad.sum()))]
        return picked

    def sample_origins(self, rng: np.random.Generator, *, city: str, years: Ints) -> Strs:
        """Home counties of people who came from elsewhere (outside ``city``)."""
        origins = SHENZHEN_ORIGINS if city == "4403" else GENERIC_ORIGINS
        names = np.array([code for code, _ in origins])
        weights = np.array([weight for _, weight in origins], dtype=np.float64)
        chosen = names[rng.choice(len(names), size=len(years), p=weights / weights.sum())]
        result = np.empty(len(years), dtype=np.int64)
        for province in np.unique(chosen):
            where = np.flatnonzero(chosen == province)
            pool = np.flatnonzero((self.province == province) & (self.city != city))
            result[where] = self._sample_from(rng, pool, years[where])
        return self.codes[result]

    def sample_in_city(
        self, rng: np.random.Generator, *, city: str, years: Ints, fallback: Strs
    ) -> Strs:
        """Counties of ``city`` in use in each year; ``fallback`` where none was."""
        pool = np.flatnonzero(self.city == city)
        if len(pool) == 0:
            return fallback
        picked = pool[rng.integers(0, len(pool), len(years))]
        ok = self._valid(picked, years)
        return np.where(ok, self.codes[picked], fallback)

    def make_unique(
        self, rng: np.random.Generator, ids: Strs, *, male: npt.NDArray[np.bool_]
    ) -> Strs:
        """Redraw the sequence numbers (same sex) of repeated ID numbers until all differ."""
        ids = ids.copy()
        for _ in range(50):
            _, first, counts = np.unique(ids, return_index=True, return_counts=True)
            if (counts == 1).all():
                return ids
            repeated = np.ones(len(ids), dtype=bool)
            repeated[first] = False
            where = np.flatnonzero(repeated)
            seq = rng.integers(0, 500, len(where)) * 2 + male[where].astype(np.int64)
            body = np.strings.add(
                np.strings.slice(ids[where], 0, 14), np.strings.zfill(seq.astype(str), 3)
            )
            digits = np.frombuffer(body.astype("S17").tobytes(), dtype=np.uint8).reshape(-1, 17)
            check = _CHECK[((digits.astype(np.int64) - 48) @ _WEIGHTS) % 11]
            ids[where] = np.strings.add(body, check)
        raise RuntimeError("could not make the generated ID numbers unique")

    def addresses(
        self, rng: np.random.Generator, hukou_codes: Strs, *, local: npt.NDArray[np.bool_]
    ) -> Strs:
        """Hukou addresses: a village of the home county, or a street number in the city."""
        lookup = dict(zip(self.codes.tolist(), self.label.tolist(), strict=True))
        county = np.strings.slice(hukou_codes, 0, 6)
        labels = np.array([lookup.get(code, "") for code in county.tolist()])
        n = len(hukou_codes)
        number = np.strings.add(rng.integers(1, 300, n).astype(str), "号")
        village = np.array(_VILLAGES)[rng.integers(0, len(_VILLAGES), n)]
        road = np.array(_ROADS)[rng.integers(0, len(_ROADS), n)]
        place = np.where(local, road, village)
        return np.where(labels == "", "", np.strings.add(np.strings.add(labels, place), number))
