"""Explanations of grid classes: which indicators decided, which triggers fired, why it stayed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from gis.grids.models import GridClass
from gis.grids.schemas import Indicators

if TYPE_CHECKING:
    from gis.grids.classes import ClassConfig, Trigger

ESTIMATED_NOTE = (
    "no residences are registered in this district: households are the dwellings (residential, "
    "mixed and dorm houses), residents and floating residents are unknown (0), and population "
    "load is ranked on households"
)


def _format(name: str, value: float) -> str:
    if name == "floating_share":
        return f"{value:.0%}"
    if name == "event_rate":
        return f"{value:.1f}"
    return f"{value:,.0f}"


@dataclass(frozen=True)
class Parts:
    """The numbers an explanation shows for the grids of one district, worked out for all of
    them at once (numpy over the whole table, then Python lists: per grid and per number,
    numpy scalars and ``round`` cost more than the rest of an explanation)."""

    names: list[str]
    weights: list[float]
    values: list[list[float]]  # exact, for the words
    rounded: list[list[float]]  # values, 4 decimals
    ranks: list[list[float]]
    contributions: list[list[float]]
    deciding: list[list[int]]  # the three largest contributions, largest first

    @classmethod
    def of(
        cls,
        names: list[str],
        table: npt.NDArray[np.float64],
        ranks: npt.NDArray[np.float64],
        weights: npt.NDArray[np.float64],
    ) -> Parts:
        weighted = ranks * weights
        return cls(
            names=names,
            weights=np.round(weights, 4).tolist(),
            values=table.tolist(),
            rounded=np.round(table, 4).tolist(),
            ranks=np.round(ranks, 4).tolist(),
            contributions=np.round(weighted / weights.sum(), 4).tolist(),
            deciding=np.argsort(-weighted, axis=1, kind="stable")[:, :3].tolist(),
        )


def explain(
    *,
    parts: Parts,
    row: int,
    score: float,
    percentile: float,
    raw: GridClass,
    hysteresis_level: int,
    final: GridClass,
    previous: GridClass | None,
    fired: list[Trigger],
    indicators: Indicators,
    config: ClassConfig,
    notes: list[str],
) -> dict[str, Any]:
    """The explanation stored with a grid's class (JSON)."""
    from gis.grids.classes import CLASSES, LABELS

    names, weights, ranks = parts.names, parts.weights, parts.ranks[row]
    rounded, contributions = parts.rounded[row], parts.contributions[row]
    shown = {
        name: {
            "value": rounded[j],
            "rank": ranks[j],
            "weight": weights[j],
            "contribution": contributions[j],
        }
        for j, name in enumerate(names)
    }
    deciding = [names[j] for j in parts.deciding[row]]
    decided_by = [
        f"{LABELS[names[j]]} {_format(names[j], parts.values[row][j])} "
        f"(rank {ranks[j]:.2f} in the district, weight {weights[j]:.2f})"
        for j in parts.deciding[row]
    ]
    cuts = config.cut_offs
    band = {
        GridClass.REINFORCED: f"the top band (percentile ≥ {cuts[GridClass.REINFORCED]:.2f})",
        GridClass.KEY: f"the key band ({cuts[GridClass.KEY]:.2f}–{cuts[GridClass.REINFORCED]:.2f})",
        GridClass.REGULAR: f"the regular band (percentile < {cuts[GridClass.KEY]:.2f})",
    }[raw]
    summary = (
        f"{final}: score {score:.3f} is at percentile {percentile:.2f} of the district, "
        f"{band}; decided by {'; '.join(decided_by)}"
    )
    kept = CLASSES[hysteresis_level]
    hysteresis = None
    if previous is not None and kept != raw:
        hysteresis = (
            f"kept {kept} (was {previous}): percentile {percentile:.2f} is within the "
            f"±{config.margin:.2f} margin of a cut-off, so the class does not change yet"
        )
    triggers = [
        f"{LABELS[t.indicator]} {_trigger_value(t, indicators)} ≥ "
        f"{_format(t.indicator, t.at_least)} → at least {t.min_class}"
        for t in fired
    ]
    all_notes = list(notes)
    if indicators.households_estimated and ESTIMATED_NOTE not in all_notes:
        all_notes.append(ESTIMATED_NOTE)
    return {
        "class": str(final),
        "score_class": str(raw),
        "previous_class": None if previous is None else str(previous),
        "score": round(score, 4),
        "percentile": round(percentile, 4),
        "cut_offs": {str(k): round(v, 4) for k, v in cuts.items()},
        "margin": config.margin,
        "indicators": shown,
        "decided_by": decided_by,
        "deciding": [LABELS[n] for n in deciding],
        "trigger_names": [f"{LABELS[t.indicator]} → at least {t.min_class}" for t in fired],
        "triggers": triggers,
        "hysteresis": hysteresis,
        "summary": summary if not triggers else f"{summary}; triggers: {'; '.join(triggers)}",
        "notes": all_notes,
    }


def _trigger_value(trigger: Trigger, indicators: Indicators) -> str:
    if trigger.indicator == "floating_share":
        return f"{indicators.floating_share:.0%}"
    return f"{getattr(indicators, trigger.indicator):,}"
