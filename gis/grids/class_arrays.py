"""Grid classes for thousands of grids at once (numpy): the method of ``gis.grids.classes``
without the worded explanations, for the impact of a plan. Tests hold the two equal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
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
    """Levels (0 regular, 1 key, 2 reinforced) per grid, and what decided each: the indices
    into ``names`` of the three scored indicators that weighed most (``top``) and which of
    ``trigger_labels`` fired (``fired``). The worded lists are made when first asked for."""

    levels: npt.NDArray[np.int64]
    raw_levels: npt.NDArray[np.int64]
    names: list[str]
    top: npt.NDArray[np.int64]
    trigger_labels: list[str]
    fired: npt.NDArray[np.bool_]

    def grid_class(self, index: int) -> GridClass:
        return CLASSES[int(self.levels[index])]

    def deciding_of(self, index: int) -> list[str]:
        return [LABELS[self.names[j]] for j in self.top[index].tolist()]

    def triggers_of(self, index: int) -> list[str]:
        return [self.trigger_labels[k] for k in np.flatnonzero(self.fired[index]).tolist()]

    @cached_property
    def deciding(self) -> list[list[str]]:
        labels = [LABELS[name] for name in self.names]
        return [[labels[j] for j in row] for row in self.top.tolist()]

    @cached_property
    def triggers(self) -> list[list[str]]:
        found: list[list[str]] = [[] for _ in range(len(self.levels))]
        for k, label in enumerate(self.trigger_labels):
            for index in np.flatnonzero(self.fired[:, k]).tolist():
                found[index].append(label)
        return found

    def signatures(self) -> list[str]:
        """Each grid's class and what decided it as one short comparable token (equal tokens,
        equal class, deciding indicators and triggers)."""
        code = self.levels.astype(np.int64)
        for position in range(self.top.shape[1]):
            code = code | (self.top[:, position].astype(np.int64) << (2 + 4 * position))
        shift = 2 + 4 * self.top.shape[1]
        for k in range(self.fired.shape[1]):
            code = code | (self.fired[:, k].astype(np.int64) << (shift + k))
        return [format(value, "x") for value in code.tolist()]


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
    columns: Mapping[str, Any],
    *,
    previous: Sequence[GridClass | None] | npt.NDArray[np.int64],
    config: ClassConfig,
) -> ArrayClasses:
    """Classes of the grids of one district, vectorised (``previous``: the grids' classes, or
    their levels with -1 for none)."""
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
    before = (
        previous
        if isinstance(previous, np.ndarray)
        else np.array([-1 if p is None else LEVELS[p] for p in previous], dtype=np.int64)
    )
    level = np.where(
        before < 0, raw, np.where(before < up, up, np.where(before > down, down, before))
    )
    values = {name: columns[name] for name in COLUMNS} | {
        "floating_share": _floating_share(columns)
    }
    fired = np.zeros((len(raw), len(config.triggers)), dtype=bool)
    for k, trigger in enumerate(config.triggers):
        target = LEVELS[trigger.min_class]
        held = before >= target
        floor = np.where(held, trigger.at_least * (1 - config.trigger_margin), trigger.at_least)
        value = values[trigger.indicator]
        fired[:, k] = (
            (value >= floor) & (value > 0) & (columns["resident_count"] >= trigger.min_residents)
        )
        level = np.where(fired[:, k], np.maximum(level, target), level)
    top = np.argsort(-(ranks * weights), axis=1, kind="stable")[:, :3]
    return ArrayClasses(
        levels=level,
        raw_levels=raw,
        names=names,
        top=top,
        trigger_labels=[
            f"{LABELS[trigger.indicator]} → at least {trigger.min_class}"
            for trigger in config.triggers
        ],
        fired=fired,
    )
