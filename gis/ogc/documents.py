"""The JSON documents of OGC API Features: landing page, conformance, collections, and the
links wrapped around pages and features that PostGIS built.

Every function takes the absolute URL of the API's root (``http://host/ogc``) and returns plain
data or JSON text; nothing here knows HTTP.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from gis.ogc.crs import CRS84_URI, SUPPORTED, OgcCrs
from gis.ogc.queries import FeaturePage
from gis.ogc.service import CollectionInfo

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
)


def _link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": media_type}
    if title:
        link["title"] = title
    return link


def landing_page(root: str, *, openapi_url: str) -> dict[str, Any]:
    """The landing page: where the API description, conformance and collections are."""
    return {
        "title": "gridhouse",
        "description": "Buildings, grids and divisions of gridhouse (OGC API - Features).",
        "links": [
            _link(root, "self", JSON, "this document"),
            _link(openapi_url, "service-desc", OPENAPI, "the API definition"),
            _link(f"{root}/conformance", "conformance", JSON, "conformance classes"),
            _link(f"{root}/collections", "data", JSON, "the collections"),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": list(CONFORMANCE)}


def collection_document(root: str, info: CollectionInfo) -> dict[str, Any]:
    """One collection: links to its items, its extent, the CRS it can answer in."""
    collection = info.collection
    href = f"{root}/collections/{collection.id}"
    document: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
        "links": [
            _link(href, "self", JSON, collection.title),
            _link(f"{href}/items", "items", GEOJSON, f"{collection.title} as GeoJSON"),
        ],
        "crs": [crs.uri for crs in SUPPORTED],
        "storageCrs": "http://www.opengis.net/def/crs/EPSG/0/4490",
    }
    if info.extent is not None:
        document["extent"] = {"spatial": {"bbox": [list(info.extent)], "crs": CRS84_URI}}
    return document


def collections_document(root: str, infos: list[CollectionInfo]) -> dict[str, Any]:
    return {
        "links": [_link(f"{root}/collections", "self", JSON, "the collections")],
        "collections": [collection_document(root, info) for info in infos],
        "crs": [crs.uri for crs in SUPPORTED],
    }


def feature_collection_text(
    *, self_url: str, next_url: str | None, collection_url: str, page: FeaturePage
) -> str:
    """A page of features as a FeatureCollection (the features array is PostGIS's text, spliced
    in as is)."""
    links = [
        _link(self_url, "self", GEOJSON, "this page"),
        _link(collection_url, "collection", JSON, "the collection"),
    ]
    if next_url is not None:
        links.append(_link(next_url, "next", GEOJSON, "the next page"))
    head: dict[str, object] = {"type": "FeatureCollection"}
    if page.number_matched is not None:  # the first page's (optional in OGC API Features)
        head["numberMatched"] = page.number_matched
    head |= {
        "numberReturned": page.number_returned,
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    }
    return json.dumps(head, ensure_ascii=False)[:-1] + ', "features": ' + page.features + "}"


def feature_text(*, feature: str, self_url: str, collection_url: str) -> str:
    """One feature (PostGIS's text) with its ``self`` and ``collection`` links."""
    links = [
        _link(self_url, "self", GEOJSON, "this feature"),
        _link(collection_url, "collection", JSON, "the collection"),
    ]
    return feature[:-1] + ', "links": ' + json.dumps(links, ensure_ascii=False) + "}"


def page_url(base: str, params: dict[str, str], **changes: str) -> str:
    """``base`` with the query ``params`` updated by ``changes``."""
    return f"{base}?{urlencode({**params, **changes})}" if {**params, **changes} else base


def crs_header(crs: OgcCrs) -> dict[str, str]:
    """The ``Content-Crs`` header Part 2 asks for on every feature response."""
    return {"Content-Crs": f"<{crs.uri}>"}
