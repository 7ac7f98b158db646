"""Placing footprints: the community each one belongs to (the village polygon holding its point
on surface, or the one named for the whole file, checked against its boundary), and the codes
issued in each community."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from sqlalchemy.orm import Session

from gis.buildings import queries
from gis.buildings.reading import FootprintBatch
from gis.codes import format_codes
from gis.errors import InvalidInput


def assign_communities(
    session: Session, batch: FootprintBatch, *, community_code: str | None
) -> npt.NDArray[np.object_]:
    """The community of each footprint: the fixed one, or the village polygon that holds the
    footprint's point on surface (None where no polygon does)."""
    if community_code is not None:
        return np.full(len(batch), community_code, dtype=object)
    return community_of_points(session, shapely.point_on_surface(batch.geoms), default=None)


NEAR_COMMUNITY_DEG = 0.005
"""How far (~500 m) outside the boundary of the ``--community`` a footprint's point may lie."""


def far_from_community(
    session: Session, batch: FootprintBatch, *, community_code: str
) -> npt.NDArray[np.bool_]:
    """Footprints of a batch given one community whose point lies far outside its boundary
    (all ``False`` when the community has no boundary to check against): the community was
    named for the whole file, so a wrong file or CRS would otherwise be coded there."""
    boundary = queries.select_division_boundary(session, code=community_code)
    if boundary is None:
        return np.zeros(len(batch), dtype=bool)
    points = shapely.point_on_surface(batch.geoms)
    near = shapely.dwithin(points, shapely.from_wkb(boundary), NEAR_COMMUNITY_DEG)
    return np.asarray(~near, dtype=bool)


def community_of_points(
    session: Session, points: npt.NDArray[Any], *, default: str | None
) -> npt.NDArray[np.object_]:
    """The community polygon holding each point (EPSG:4490), else ``default``."""
    result = np.full(len(points), default, dtype=object)
    if len(points) == 0:
        return result
    min_x, min_y, max_x, max_y = (float(v) for v in shapely.total_bounds(points))
    communities = queries.select_communities(session, bbox=(min_x, min_y, max_x, max_y))
    if not communities:
        return result
    codes = np.array([code for code, _ in communities], dtype=object)
    tree = shapely.STRtree(shapely.from_wkb([wkb for _, wkb in communities]))
    point_index, polygon_index = tree.query(points, predicate="within")
    result[point_index] = codes[polygon_index]
    return result


def issue_codes(
    session: Session,
    *,
    communities: npt.NDArray[np.object_],
    structure_classes: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.int64]]:
    """Allocate sequences per community in file order and format the codes."""
    counts = Counter(communities.tolist())
    starts = queries.allocate_sequences(session, counts=dict(counts))
    seqs = np.zeros(len(communities), dtype=np.int64)
    for community in counts:
        where = np.flatnonzero(communities == community)
        seqs[where] = starts[community] + np.arange(where.size)
    codes = format_codes(
        community_codes=communities.astype("U12"), structure_classes=structure_classes, seqs=seqs
    )
    return codes, seqs


def check_community(session: Session, community_code: str) -> None:
    """``--community`` must name a stored community (village-level, 12 digits)."""
    rank = queries.select_division_rank(session, code=community_code)
    if rank is None:
        raise InvalidInput(f"no division has the code {community_code}", field="--community")
    if rank != 5:
        raise InvalidInput(
            f"{community_code} is not a community (社区/村) code", field="--community"
        )
