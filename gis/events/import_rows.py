"""Checking the rows of an events file (read by :mod:`gis.events.import_files`), one at a time:
kind, report time, texts and the place.

A row names its place in one of three ways: ``lon``/``lat`` (CSV, XLSX) or a Point geometry
(GeoJSON), in the file's CRS; a building code; a house code.

>>> parse_kind("矛盾纠纷")
<EventKind.DISPUTE: 'dispute'>
>>> parse_reported_at("2026/5/3 14:30", now=datetime(2026, 6, 1, tzinfo=CHINA)).isoformat()
'2026-05-03T14:30:00+08:00'
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np

from gis.clock import CHINA
from gis.codes import HouseCode, parse_code
from gis.crs import SourceCrs, out_of_china, transform_xy
from gis.errors import InvalidInput
from gis.events.import_files import RawRow, label
from gis.events.models import EventKind
from gis.events.places import check_code_kind
from gis.people.occupancy import checked_point
from gis.people.periods import checked_date

KIND_NAMES: dict[str, EventKind] = {
    "安全隐患": EventKind.SAFETY_HAZARD,
    "出租屋消防隐患": EventKind.RENTED_FIRE_RISK,
    "消防隐患": EventKind.RENTED_FIRE_RISK,
    "矛盾纠纷": EventKind.DISPUTE,
    "纠纷": EventKind.DISPUTE,
    "治安": EventKind.PUBLIC_ORDER,
    "治安问题": EventKind.PUBLIC_ORDER,
    "社会治安": EventKind.PUBLIC_ORDER,
    "其他": EventKind.OTHER,
}
KIND_LABELS: dict[EventKind, str] = {
    EventKind.SAFETY_HAZARD: "安全隐患",
    EventKind.RENTED_FIRE_RISK: "出租屋消防隐患",
    EventKind.DISPUTE: "矛盾纠纷",
    EventKind.PUBLIC_ORDER: "治安问题",
    EventKind.OTHER: "其他",
}
"""The title of an imported event that has neither a title nor a description."""
MAX_LENGTHS = {"source_id": 100, "title": 200, "description": 2000, "reporter": 64}
_DATETIME = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[ T]+(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2}))?秒?)?"
)


@dataclass(frozen=True)
class EventRow:
    """One checked row; ``point`` is in EPSG:4490 when the place is a point."""

    number: int
    source_id: str | None
    kind: EventKind
    title: str
    description: str | None
    reported_at: datetime
    reporter: str | None
    point: tuple[float, float] | None
    building_code: str | None
    house_code: str | None


def parse_kind(text: str) -> EventKind:
    """An event kind from its English value or a Chinese name."""
    value = text.strip()
    kind = KIND_NAMES.get(value)
    if kind is not None:
        return kind
    try:
        return EventKind(value.lower())
    except ValueError:
        allowed = ", ".join(k.value for k in EventKind)
        raise InvalidInput(
            f"{text!r} is not one of {allowed} ({', '.join(KIND_NAMES)})", field=label("kind")
        ) from None


def parse_reported_at(text: str, *, now: datetime) -> datetime:
    """``2026-05-03 14:30``, ``2026-05-03T14:30:00+08:00``, ``2026/5/3 14:30``, ``2026年5月3日``
    (a date alone is its midnight); without an offset, China's time. Never after ``now``."""
    field = label("reported_at")
    if not text:
        raise InvalidInput("the report time is required", field=field)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        match = _DATETIME.fullmatch(text.strip())
        if match is None:
            raise InvalidInput(
                f"{text!r} is not a date and time (YYYY-MM-DD HH:MM)", field=field
            ) from None
        parts = [int(p) if p else 0 for p in match.groups()]
        try:
            value = datetime.combine(
                date(parts[0], parts[1], parts[2]), time(parts[3], parts[4], parts[5])
            )
        except ValueError:
            raise InvalidInput(f"{text!r} is not a real date and time", field=field) from None
    checked_date(value.date(), field=field)
    if value.tzinfo is None:
        value = value.replace(tzinfo=CHINA)
    if value > now:
        raise InvalidInput(f"{text!r} is in the future", field=field)
    return value


def _number(text: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a number", field=label(column)) from None
    if not math.isfinite(value):
        raise InvalidInput("must be a finite number", field=label(column))
    return value


def checked_xy(x: float, y: float, crs: SourceCrs, *, field: str) -> tuple[float, float]:
    """A point in EPSG:4490 from ``crs`` (geographic or projected); NaN, swapped and
    out-of-China points refused."""
    if crs.is_geographic:
        try:
            return checked_point(x, y, crs)
        except InvalidInput as error:
            raise InvalidInput(error.message, field=field) from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise InvalidInput("coordinates must be finite numbers", field=field)
    lon, lat = transform_xy(np.array([x]), np.array([y]), crs)
    if not (np.isfinite(lon[0]) and np.isfinite(lat[0])) or out_of_china(lon, lat)[0]:
        raise InvalidInput(f"the point is outside China in {crs.label} (wrong CRS?)", field=field)
    return float(lon[0]), float(lat[0])


def _geometry_point(row: RawRow, crs: SourceCrs | None) -> tuple[float, float] | None:
    geometry = row.geometry
    if geometry is None:
        return None
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        raise InvalidInput(f"an event is a Point, not {kind}", field="geometry")
    coordinates = geometry.get("coordinates")
    if (
        not isinstance(coordinates, list)
        or len(coordinates) < 2
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates)
    ):
        raise InvalidInput("a Point has [x, y] numbers as coordinates", field="geometry")
    assert crs is not None
    return checked_xy(float(coordinates[0]), float(coordinates[1]), crs, field="geometry")


def _cells_point(cells: dict[str, str], crs: SourceCrs | None) -> tuple[float, float] | None:
    lon_text, lat_text = cells.get("lon", ""), cells.get("lat", "")
    if not lon_text and not lat_text:
        return None
    if not lon_text or not lat_text:
        missing = "lon" if not lon_text else "lat"
        raise InvalidInput("lon and lat go together", field=label(missing))
    if crs is None:
        raise InvalidInput("name the CRS of lon/lat with --crs", field="--crs")
    lon, lat = _number(lon_text, "lon"), _number(lat_text, "lat")
    return checked_xy(lon, lat, crs, field=label("lon"))


def _text(cells: dict[str, str], column: str) -> str | None:
    value = cells.get(column, "").strip()
    if len(value) > MAX_LENGTHS[column]:
        raise InvalidInput(
            f"{len(value)} characters; at most {MAX_LENGTHS[column]}", field=label(column)
        )
    return value or None


def parse_row(row: RawRow, *, crs: SourceCrs | None, now: datetime) -> EventRow:
    """Check every value of a row; InvalidInput names the column and the reason."""
    if "_error" in row.cells:
        raise InvalidInput(row.cells["_error"], field="feature")
    for column, value in row.cells.items():
        if "\x00" in value:
            raise InvalidInput("holds a NUL byte", field=label(column))
    kind_text = row.cells.get("kind", "")
    if not kind_text:
        raise InvalidInput("the kind is required", field=label("kind"))
    kind = parse_kind(kind_text)
    reported_at = parse_reported_at(row.cells.get("reported_at", ""), now=now)
    description = _text(row.cells, "description")
    title = _text(row.cells, "title")
    if title is None:
        first_line = (description or "").strip().splitlines()[0] if description else ""
        title = first_line[:60] or KIND_LABELS[kind]
    points = [p for p in (_geometry_point(row, crs), _cells_point(row.cells, crs)) if p]
    parsed: dict[str, HouseCode] = {}
    for column in ("building_code", "house_code"):
        if row.cells.get(column):
            try:
                parsed[column] = parse_code(row.cells[column], field=label(column))
            except InvalidInput as error:
                raise InvalidInput(error.message, field=label(column)) from None
    codes = {column: code.code for column, code in parsed.items()}
    given = len(points) + len(codes)
    if given != 1:
        where = "geometry" if row.has_geometry_key else label("lon")
        raise InvalidInput(
            "give exactly one place: lon/lat (or a Point), a building code or a house code"
            + (f" (this row gives {given})" if given else ""),
            field=where if given == 0 or not codes else label(sorted(codes)[0]),
        )
    for column, code in parsed.items():  # a house's code under building_code, or the reverse
        check_code_kind(code, column=column, field=label(column))
    return EventRow(
        number=row.number,
        source_id=_text(row.cells, "source_id"),
        kind=kind,
        title=title,
        description=description,
        reported_at=reported_at,
        reporter=_text(row.cells, "reporter"),
        point=points[0] if points else None,
        building_code=codes.get("building_code"),
        house_code=codes.get("house_code"),
    )
