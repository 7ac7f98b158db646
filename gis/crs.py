"""Every CRS conversion into storage (EPSG:4490), GCJ-02 and BD-09 included.

GCJ-02 (Amap, Tencent) and BD-09 (Baidu) are the obfuscated coordinate systems of Chinese web
maps. They have no EPSG code and no exact inverse: the inverse here iterates the published
forward formula until the round trip closes below a millimetre.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from gis.errors import CrsRequired, InvalidInput

STORAGE_SRID = 4490
WGS84_SRID = 4326
WEB_MERCATOR_SRID = 3857

FloatArray = npt.NDArray[np.float64]

_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0
_OFFSET_NAMES = {"GCJ02": "GCJ02", "GCJ-02": "GCJ02", "BD09": "BD09", "BD-09": "BD09"}


@dataclass(frozen=True)
class SourceCrs:
    """A CRS an input may name: an EPSG code, or one of the offset systems GCJ02 / BD09."""

    epsg: int | None = None
    offset: str | None = None

    @property
    def label(self) -> str:
        return self.offset if self.offset else f"EPSG:{self.epsg}"

    @property
    def is_offset(self) -> bool:
        return self.offset is not None

    @property
    def is_geographic(self) -> bool:
        """Degrees of longitude and latitude (the offset systems are too)."""
        return self.offset is not None or _epsg_facts(self.epsg or 0).geographic


@dataclass(frozen=True)
class _EpsgFacts:
    geographic: bool
    horizontal: bool
    type_name: str


@lru_cache(maxsize=256)
def _epsg_facts(epsg: int) -> _EpsgFacts:
    """What an EPSG code names, looked up once: building a pyproj CRS costs ~0.1 ms, paid on
    every radius query before (issue 5 item 8). Unknown codes raise (and are not cached)."""
    crs = CRS.from_epsg(epsg)
    return _EpsgFacts(
        geographic=bool(crs.is_geographic), horizontal=is_horizontal(crs), type_name=crs.type_name
    )


def parse_crs(value: str, *, field: str = "crs") -> SourceCrs:
    """Read ``EPSG:4490``, ``4326``, ``GCJ02`` or ``BD09`` (case and hyphens ignored); an EPSG
    code must name a horizontal CRS (geographic 2D or projected).

    >>> parse_crs("gcj-02").label
    'GCJ02'
    >>> parse_crs("epsg:4490").epsg
    4490
    """
    text = value.strip().upper()
    if not text:
        raise CrsRequired("a CRS is required (an EPSG code, GCJ02 or BD09)", field=field)
    if text in _OFFSET_NAMES:
        return SourceCrs(offset=_OFFSET_NAMES[text])
    match = re.fullmatch(r"(?:EPSG:)?(\d{4,6})", text)
    if match is None:
        raise InvalidInput(
            f"unknown CRS {value!r}: give an EPSG code (EPSG:4490), GCJ02 or BD09", field=field
        )
    epsg = int(match.group(1))
    try:
        facts = _epsg_facts(epsg)
    except CRSError:
        raise InvalidInput(f"EPSG:{epsg} is not a known CRS", field=field) from None
    if not facts.horizontal:
        # a vertical, geocentric, 3D or compound CRS has no (x, y) on the ground to convert:
        # pyproj would still "convert" the numbers (EPSG:5714 swaps them)
        raise InvalidInput(
            f"EPSG:{epsg} ({facts.type_name}) is not a horizontal CRS: "
            "give a geographic 2D or projected one (EPSG:4490, EPSG:4326, EPSG:4547…)",
            field=field,
        )
    return SourceCrs(epsg=epsg)


def is_horizontal(crs: CRS) -> bool:
    """A geographic 2D or projected CRS: two axes on the ground, nothing vertical.

    >>> is_horizontal(CRS.from_epsg(32650)), is_horizontal(CRS.from_epsg(5714))
    (True, False)
    """
    if crs.is_compound or len(crs.axis_info) != 2:
        return False
    return bool(crs.is_geographic or crs.is_projected)


def crs_from_file(crs: Any) -> SourceCrs | None:
    """The EPSG code of the horizontal CRS a file declares (a pyproj CRS or WKT/authority
    string), or None. A 3D or compound CRS (heights beside the footprint) gives its horizontal
    part; a vertical or geocentric one, with no (x, y) on the ground, is refused."""
    if crs is None:
        return None
    parsed = CRS.from_user_input(crs).to_2d()
    if not is_horizontal(parsed):
        raise InvalidInput(
            f"the file's CRS ({parsed.name}, {parsed.type_name}) is not a horizontal CRS: "
            "name the footprints' CRS with --crs",
            field="crs",
        )
    epsg = parsed.to_epsg(min_confidence=70)
    if epsg is None:
        raise InvalidInput(
            f"the file's CRS ({parsed.name}) has no EPSG code; name one with --crs", field="crs"
        )
    return SourceCrs(epsg=epsg)


@lru_cache(maxsize=32)
def _transformer(source_epsg: int, target_epsg: int) -> Transformer:
    return Transformer.from_crs(source_epsg, target_epsg, always_xy=True)


def transform_xy(
    x: FloatArray, y: FloatArray, source: SourceCrs, target_epsg: int = STORAGE_SRID
) -> tuple[FloatArray, FloatArray]:
    """Convert coordinate arrays from ``source`` to ``target_epsg`` (vectorised)."""
    if source.offset == "BD09":
        x, y = bd09_to_gcj02(x, y)
    if source.offset is not None:
        x, y = gcj02_to_wgs84(x, y)
        source = SourceCrs(epsg=WGS84_SRID)
    assert source.epsg is not None
    if source.epsg == target_epsg:
        return x, y
    tx, ty = _transformer(source.epsg, target_epsg).transform(x, y)
    return np.asarray(tx, dtype=np.float64), np.asarray(ty, dtype=np.float64)


def transform_geometries(
    geoms: npt.NDArray[Any], source: SourceCrs, target_epsg: int = STORAGE_SRID
) -> npt.NDArray[Any]:
    """Convert an array of shapely geometries, all vertices in one vectorised call."""

    def convert(coords: FloatArray) -> FloatArray:
        x, y = transform_xy(coords[:, 0].copy(), coords[:, 1].copy(), source, target_epsg)
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geoms, convert))


def out_of_china(lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
    """Where the GCJ-02 offset does not apply (the published bounding box of the rule)."""
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_delta(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = lon - 105.0
    y = lat - 35.0
    ripple = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += ripple
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += ripple
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _GCJ_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The forward GCJ-02 offset (what Chinese web maps apply to WGS 84)."""
    dlon, dlat = _gcj_delta(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(
    lon: FloatArray, lat: FloatArray, *, tolerance_deg: float = 1e-9, max_iterations: int = 10
) -> tuple[FloatArray, FloatArray]:
    """Invert GCJ-02 by fixed-point iteration; 1e-9° is about 0.1 mm."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(max_iterations):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = glon - lon, glat - lat
        wlon -= elon
        wlat -= elat
        if lon.size == 0 or max(np.nanmax(np.abs(elon)), np.nanmax(np.abs(elat))) < tolerance_deg:
            break
    return wlon, wlat


def bd09_to_gcj02(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Baidu's BD-09 back to GCJ-02: the published closed form (a few cm off), then refined by
    iterating the exact forward formula."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    glon, glat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(3):
        blon, blat = gcj02_to_bd09(glon, glat)
        glon, glat = glon - (blon - lon), glat - (blat - lat)
    return glon, glat


def gcj02_to_bd09(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 to Baidu's BD-09 (closed form); used to test the inverse."""
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006
