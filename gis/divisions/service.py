"""Use cases of divisions: load the code hierarchy from CSV files, attach boundary polygons."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from sqlalchemy.orm import Session

from gis.crs import SourceCrs, crs_from_file, transform_geometries
from gis.divisions import queries
from gis.divisions.models import DivisionLevel
from gis.errors import CrsRequired, InvalidGeometry, InvalidInput, NotFound
from gis.table_files import check_file, csv_records
from gis.vector_files import read_features, vector_layers

# (level, file pattern, column holding the parent's code); files as published by china-division
LEVEL_FILES: tuple[tuple[DivisionLevel, str, str | None], ...] = (
    (DivisionLevel.PROVINCE, "provinces.csv", None),
    (DivisionLevel.CITY, "cities.csv", "provinceCode"),
    (DivisionLevel.COUNTY, "areas.csv", "cityCode"),
    (DivisionLevel.TOWNSHIP, "streets.csv", "areaCode"),
    (DivisionLevel.VILLAGE, "villages*.csv", "streetCode"),
)


@dataclass
class DivisionImportResult:
    """What an import of the division hierarchy did."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    by_level: dict[str, int] = field(default_factory=dict)
    folded: list[str] = field(default_factory=list)


@dataclass
class BoundaryResult:
    """What attaching boundaries did; ``unmatched`` lists codes the file has but the table lacks."""

    read: int = 0
    updated: int = 0
    unchanged: int = 0
    unmatched: list[str] = field(default_factory=list)


def pad_code(code: str, *, field_name: str = "code") -> str:
    """Pad a 2/4/6/9/12-digit statistical code to 12 digits.

    >>> pad_code("440305")
    '440305000000'
    """
    code = code.strip()
    if not code.isdigit() or len(code) not in {2, 4, 6, 9, 12}:
        raise InvalidInput(
            f"{code!r} is not a 2, 4, 6, 9 or 12-digit division code", field=field_name
        )
    return code.ljust(12, "0")


def level_of(code: str) -> DivisionLevel:
    """The level a 2/4/6/9/12-digit code stands for."""
    by_digits = {level.digits: level for level in DivisionLevel}
    return by_digits[len(code.strip())]


def read_division_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of the division tables under ``path``, parents before children, codes padded."""
    if not path.is_dir():
        raise InvalidInput(f"{path} is not a folder of division CSV files", field="PATH")
    for level, pattern, parent_column in LEVEL_FILES:
        files = sorted(path.glob(pattern))
        if not files and level is not DivisionLevel.VILLAGE:
            raise InvalidInput(f"{path} has no {pattern}", field="PATH")
        for file in files:
            header: list[str] = []
            for line, values in csv_records(file, field="PATH"):  # not UTF-8: file and line
                if line == 1:
                    header = [name.strip() for name in values]
                    continue
                if not values:  # a blank line
                    continue
                row = dict(zip(header, values, strict=False))
                where = f"{file.name} line {line}"
                raw_code = (row.get("code") or "").strip()
                if len(raw_code) != level.digits or not raw_code.isdigit():
                    raise InvalidInput(
                        f"{where}: a {level.value} code has {level.digits} digits, "
                        f"got {raw_code!r}",
                        field="code",
                    )
                name = (row.get("name") or "").strip()
                if not name:
                    raise InvalidInput(f"{where}: the name is empty", field="name")
                if any(unicodedata.category(char) == "Cc" for char in name):
                    raise InvalidInput(
                        f"{where}: the name holds a control character (a line break?)",
                        field="name",
                    )
                parent = None
                if parent_column is not None:
                    try:
                        parent = pad_code(row.get(parent_column) or "", field_name=parent_column)
                    except InvalidInput as error:
                        raise InvalidInput(f"{where}: {error.message}", field=error.field) from None
                yield {
                    "code": pad_code(raw_code),
                    "name": name,
                    "level": level,
                    "rank": level.rank,
                    "parent_code": parent,
                    "where": where,
                    "parent_column": parent_column,
                }


def import_divisions(session: Session, *, path: Path) -> DivisionImportResult:
    """Insert new divisions and update renamed or re-parented ones; re-running changes nothing.

    A few published rows pad to the code of their own parent: cities without districts listed
    again as their own county (东莞 441900, 中山 442000, 儋州 460400) and 金门县 listed again as its
    own township. They are one division, so the lower row is folded into the higher one and
    reported in ``folded``.
    """
    existing = queries.select_division_index(session)
    result = DivisionImportResult()
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in read_division_rows(path):
        where, parent_column = row.pop("where"), row.pop("parent_column")
        parent = row["parent_code"]
        if parent is not None and parent not in seen and parent not in existing:
            raise InvalidInput(
                f"{where}: {parent_column} names {parent}, which is not a division of the files "
                "or the table; nothing was stored",
                field=parent_column,
            )
        result.read += 1
        result.by_level[row["level"].value] = result.by_level.get(row["level"].value, 0) + 1
        if row["code"] in seen:
            result.folded.append(f"{row['code']} {row['name']} ({row['level'].value})")
            continue
        seen.add(row["code"])
        stored = existing.get(row["code"])
        if stored is None:
            new_rows.append(row)
        elif stored != (row["name"], row["parent_code"]):
            changed_rows.append(
                {"b_code": row["code"], "name": row["name"], "parent_code": row["parent_code"]}
            )
        else:
            result.unchanged += 1
    queries.insert_divisions(session, new_rows)
    queries.update_divisions(session, changed_rows)
    session.flush()
    result.inserted, result.updated = len(new_rows), len(changed_rows)
    return result


@dataclass
class BoundaryFile:
    """The boundaries of a file, checked and converted to EPSG:4490: ``geoms[i]`` is the
    boundary of division ``codes[i]`` (12 digits)."""

    name: str
    codes: list[str]
    geoms: Any


def read_boundaries(
    path: Path, *, crs: SourceCrs | None, code_field: str = "code", field: str = "boundaries"
) -> BoundaryFile:
    """Read and check a file of division polygons (any level, codes padded to 12) before
    anything is stored: a file that is missing, unreadable or empty is refused naming ``field``
    (the option that gave it); a missing CRS, a bad code, an empty, non-polygon, NaN or invalid
    boundary, or a code given twice, naming what is wrong."""
    check_file(path, field=field)
    layers = vector_layers(path, field=field)
    if len(layers) > 1:
        raise InvalidInput(
            f"{path.name} has several layers ({', '.join(layers)}): a boundaries file holds one",
            field=field,
        )
    info = pyogrio.read_info(path, layer=layers[0])
    source = crs if crs is not None else crs_from_file(info.get("crs"))
    if source is None:
        raise CrsRequired(f"{path.name} declares no CRS; name one with --crs", field="crs")
    features = read_features(path, layer=layers[0], field=field)
    if len(features) == 0:
        raise InvalidInput(f"{path.name} has no features", field=field)
    if code_field not in features.columns:
        raise InvalidInput(f"{path.name} has no {code_field!r} column", field=code_field)
    geoms = features.geoms
    codes = [pad_code(str(value), field_name=code_field) for value in features.columns[code_field]]
    for code, geom in zip(codes, geoms, strict=True):
        if geom is None or shapely.is_empty(geom):
            raise InvalidGeometry(f"division {code}: the boundary is empty", field="geometry")
        if shapely.get_type_id(geom) not in (3, 6):
            raise InvalidGeometry(
                f"division {code}: a boundary must be a polygon", field="geometry"
            )
        if not np.isfinite(shapely.get_coordinates(geom)).all():
            raise InvalidGeometry(
                f"division {code}: a coordinate of the boundary is NaN or infinite",
                field="geometry",
            )
        if not shapely.is_valid(geom):
            reason = shapely.is_valid_reason(geom)
            raise InvalidGeometry(f"division {code}: invalid boundary ({reason})", field="geometry")
    twice = sorted(code for code, count in Counter(codes).items() if count > 1)
    if twice:
        raise InvalidInput(
            f"{len(twice)} division(s) have more than one boundary in {path.name}: "
            f"{', '.join(twice[:10])}",
            field=code_field,
        )
    return BoundaryFile(name=path.name, codes=codes, geoms=transform_geometries(geoms, source))


def attach_boundaries(
    session: Session, *, path: Path, crs: SourceCrs | None, code_field: str = "code"
) -> BoundaryResult:
    """Attach the polygons of a file to divisions by their code (any level, padded to 12)."""
    return store_boundaries(session, read_boundaries(path, crs=crs, code_field=code_field))


def store_boundaries(session: Session, boundaries: BoundaryFile) -> BoundaryResult:
    """Attach boundaries read by :func:`read_boundaries`; each must lie within its parent's
    (refused whole otherwise)."""
    codes, stored = boundaries.codes, boundaries.geoms
    _check_within_parents(session, dict(zip(codes, stored, strict=True)))
    known = queries.select_known_codes(session, codes)
    result = BoundaryResult(read=len(codes))
    for code, geom in zip(codes, stored, strict=True):
        if code not in known:
            result.unmatched.append(code)
            continue
        changed = queries.update_boundary(session, code=code, wkb=shapely.to_wkb(geom))
        result.updated += changed
        result.unchanged += 1 - changed
    session.flush()
    return result


PROVINCES_OF_CHINA = frozenset(
    """11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64
    65 71 81 82""".split()  # noqa: SIM905 - a table is easier to check than 34 quoted strings
)
"""The province-level codes of GB/T 2260 (the tests' fictitious provinces 97 and 99 are not)."""
CHINA_BOX = shapely.box(73.4, 3.8, 135.1, 53.6)
"""China's extent in lon/lat: a boundary of a Chinese division outside it was read wrongly."""
NEAR_PARENT_DEG = 0.01
"""How far (~1 km) outside its parent's boundary a division's point may lie (generalised
boundaries of different sources do not meet exactly)."""


def _ancestors(code: str) -> list[str]:
    """The 12-digit codes of a division's province, city, county and township, nearest first.

    >>> _ancestors("440305005001")
    ['440305005000', '440305000000', '440300000000', '440000000000']
    """
    prefixes = [code[:9], code[:6], code[:4], code[:2]]
    return [prefix.ljust(12, "0") for prefix in prefixes if prefix.ljust(12, "0") != code]


def _check_within_parents(session: Session, boundaries: dict[str, Any]) -> None:
    """Each boundary's point lies within its nearest ancestor that has a boundary (in the
    table or in the same file); a file of elsewhere, or read in a wrong ``--crs``, is refused
    whole before anything is stored."""
    wanted = sorted({a for code in boundaries for a in _ancestors(code)} - set(boundaries))
    known = {
        code: shapely.from_wkb(wkb)
        for code, wkb in queries.select_boundaries(session, wanted).items()
    }
    known.update(boundaries)
    for code, geom in boundaries.items():
        point = shapely.point_on_surface(geom)
        if code[:2] in PROVINCES_OF_CHINA and not shapely.within(point, CHINA_BOX):
            raise InvalidGeometry(
                f"division {code}: the boundary lies outside China (wrong file or --crs?); "
                "nothing was attached",
                field="geometry",
            )
        parent = next((a for a in _ancestors(code) if a in known), None)
        if parent is None:
            continue
        if not shapely.dwithin(point, known[parent], NEAR_PARENT_DEG):
            raise InvalidGeometry(
                f"division {code}: the boundary lies outside division {parent}, which holds it "
                "(wrong file or --crs?); nothing was attached",
                field="geometry",
            )


def known_division(session: Session, code: str, *, field: str = "division") -> str:
    """A 2-12 digit division code a caller gave, padded to 12 and known (422, 404 naming
    ``field`` otherwise)."""
    padded = pad_code(code, field_name=field)
    require_known_division(session, padded, field=field)
    return padded


def require_known_division(session: Session, code: str, *, field: str = "division") -> None:
    """A division code a caller gave must be one of the division table: an unknown one is a
    404 naming ``field`` (not an area that merely has no data)."""
    if not queries.select_known_codes(session, [code]):
        raise NotFound(f"no division {code}", field=field)
