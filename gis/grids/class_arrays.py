"""Grid classes for thousands of grids at once (numpy): the method of ``gis.grids.classes``
without the worded explanations, for the impact of a plan. Tests hold the two equal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from gis.grids.classes import (
    CLASSES,
    LABELS,
    LEVELS,
    SCORE_INDICATORS,
    ClassConfig,
    percentile_ranks,
)
from gis.grids.models import GridClass

COLUMNS = (
    "households",
    "resident_count",
    "floating_count",
    "rented_houses",
    "large_rentals",
    "organizations",
    "key_person_count",
    "open_events",
)
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ArrayClasses:
    """Levels (0 regular, 1 key, 2 reinforced) per grid, and what decided each."""

    levels: npt.NDArray[np.int64]
    raw_levels: npt.NDArray[np.int64]
    deciding: list[list[str]]
    triggers: list[list[str]]

    def grid_class(self, index: int) -> GridClass:
        return CLASSES[int(self.levels[index])]


def columns_of(stats: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The indicator columns of many grids' stats (``Indicators.as_dict`` shaped)."""
    count = len(stats)
    columns: dict[str, Any] = {
        name: np.fromiter((float(s.get(name) or 0) for s in stats), dtype=np.float64, count=count)
        for name in COLUMNS
    }
    columns["households_estimated"] = np.fromiter(
        (bool(s.get("households_estimated")) for s in stats), dtype=bool, count=count
    )
    return columns


def _floating_share(columns: Mapping[str, Any]) -> Floats:
    residents = columns["resident_count"]
    share = np.divide(
        columns["floating_count"], residents, out=np.zeros_like(residents), where=residents > 0
    )
    return np.asarray(share, dtype=np.float64)


def score_columns(columns: Mapping[str, Any]) -> dict[str, Floats]:
    """The six scored indicators (as ``gis.grids.classes.score_values``)."""
    households = columns["households"]
    return {
        "population_load": np.where(
            columns["households_estimated"], households, columns["resident_count"]
        ),
        "floating_share": _floating_share(columns),
        "rentals": columns["rented_houses"],
        "organizations": columns["organizations"],
        "key_persons": columns["key_person_count"],
        "event_rate": 100.0 * columns["open_events"] / np.maximum(households, 1),
    }


def _bands(percentiles: Floats, config: ClassConfig, shift: float) -> npt.NDArray[np.int64]:
    cuts = config.cut_offs
    levels = np.zeros(len(percentiles), dtype=np.int64)
    levels[percentiles >= cuts[GridClass.KEY] + shift] = 1
    levels[percentiles >= cuts[GridClass.REINFORCED] + shift] = 2
    return levels


def classify_arrays(
    columns: Mapping[str, Any], *, previous: Sequence[GridClass | None], config: ClassConfig
) -> ArrayClasses:
    """Classes of the grids of one district, vectorised."""
    names = [name for name in SCORE_INDICATORS if config.weights.get(name, 0) > 0]
    scored = score_columns(columns)
    ranks = np.column_stack([percentile_ranks(scored[name]) for name in names])
    weights = np.array([config.weights[name] for name in names])
    percentiles = percentile_ranks(ranks @ weights / weights.sum())
    raw = _bands(percentiles, config, 0.0)
    up, down = (
        _bands(percentiles, config, config.margin),
        _bands(percentiles, config, -config.margin),
    )
    before = np.array([-1 if p is None else LEVELS[p] for p in previous], dtype=np.int64)
    level = np.where(
        before < 0, raw, np.where(before < up, up, np.where(before > down, down, before))
    )
    values = {name: columns[name] for name in COLUMNS} | {
        "floating_share": _floating_share(columns)
    }
    triggers: list[list[str]] = [[] for _ in range(len(raw))]
    for trigger in config.triggers:
        target = LEVELS[trigger.min_class]
        held = before >= target
        floor = np.where(held, trigger.at_least * (1 - config.trigger_margin), trigger.at_least)
        value = values[trigger.indicator]
        fired = (
            (value >= floor) & (value > 0) & (columns["resident_count"] >= trigger.min_residents)
        )
        level = np.where(fired, np.maximum(level, target), level)
        for index in np.flatnonzero(fired).tolist():
            triggers[index].append(f"{LABELS[trigger.indicator]} → at least {trigger.min_class}")
    top = np.argsort(-(ranks * weights), axis=1, kind="stable")[:, :3]
    deciding = [[LABELS[names[j]] for j in row] for row in top.tolist()]
    return ArrayClasses(levels=level, raw_levels=raw, deciding=deciding, triggers=triggers)
