"""The CRS URIs of OGC API Features Part 2 this server offers, and bboxes given in them.

Axis order follows each CRS's definition, as Part 2 requires: ``CRS84`` is longitude, latitude;
``EPSG:4326`` and ``EPSG:4490`` are latitude, longitude. Coordinates answered in an EPSG CRS are
flipped in SQL, and a ``bbox`` in one is read latitude first.
"""

from __future__ import annotations

from dataclasses import dataclass

from gis.crs import STORAGE_SRID, WGS84_SRID
from gis.errors import InvalidInput

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326_URI = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG4490_URI = "http://www.opengis.net/def/crs/EPSG/0/4490"

Bbox = tuple[float, float, float, float]
"""``(min_lon, min_lat, max_lon, max_lat)``, always longitude first once parsed."""


@dataclass(frozen=True)
class OgcCrs:
    """A CRS a client may ask for: its URI, the SRID PostGIS writes it with, its axis order."""

    uri: str
    srid: int
    is_lat_first: bool


CRS84 = OgcCrs(CRS84_URI, WGS84_SRID, is_lat_first=False)
EPSG4326 = OgcCrs(EPSG4326_URI, WGS84_SRID, is_lat_first=True)
EPSG4490 = OgcCrs(EPSG4490_URI, STORAGE_SRID, is_lat_first=True)
SUPPORTED: tuple[OgcCrs, ...] = (CRS84, EPSG4490, EPSG4326)
STORAGE = EPSG4490


def parse_crs_uri(value: str | None, *, field: str = "crs") -> OgcCrs:
    """The CRS named by ``value`` (its URI, or the ``[EPSG:4490]`` safe-CURIE form); CRS84 when
    no value is given.

    >>> parse_crs_uri("http://www.opengis.net/def/crs/EPSG/0/4490").srid
    4490
    >>> parse_crs_uri("[EPSG:4326]").is_lat_first
    True
    >>> parse_crs_uri(None).uri
    'http://www.opengis.net/def/crs/OGC/1.3/CRS84'
    """
    if value is None or value == "":
        return CRS84
    text = value.strip()
    curies = {"[OGC:CRS84]": CRS84, "[EPSG:4326]": EPSG4326, "[EPSG:4490]": EPSG4490}
    if text in curies:
        return curies[text]
    for crs in SUPPORTED:
        if text == crs.uri or text == crs.uri.replace("http://", "https://", 1):
            return crs
    offered = ", ".join(crs.uri for crs in SUPPORTED)
    raise InvalidInput(f"unsupported CRS {value[:200]!r}: offered are {offered}", field=field)


def parse_bbox(value: str, *, crs: OgcCrs, field: str = "bbox") -> Bbox:
    """Four numbers (or six, heights ignored) in the axis order of ``crs``, checked and returned
    longitude first.

    >>> parse_bbox("22.50,113.90,22.51,113.91", crs=EPSG4490)
    (113.9, 22.5, 113.91, 22.51)
    """
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise InvalidInput("give four numbers (or six with heights)", field=field)
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        raise InvalidInput("bbox values must be numbers", field=field) from None
    if any(number != number or number in (float("inf"), float("-inf")) for number in numbers):
        raise InvalidInput("bbox values must be finite", field=field)
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if crs.is_lat_first:
        min_lat, min_lon, max_lat, max_lon = numbers
        order = "min_lat,min_lon,max_lat,max_lon"
    else:
        min_lon, min_lat, max_lon, max_lat = numbers
        order = "min_lon,min_lat,max_lon,max_lat"
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise InvalidInput(
            f"bbox must be {order} in {crs.uri} within ±180/±90 (is the axis order swapped?)",
            field=field,
        )
    return (min_lon, min_lat, max_lon, max_lat)
