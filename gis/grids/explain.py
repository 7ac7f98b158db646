"""Explanations of grid classes: which indicators decided, which triggers fired, why it stayed."""

from __future__ import annotations

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


def explain(
    *,
    names: list[str],
    values: npt.NDArray[np.float64],
    ranks: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
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

    total = float(weights.sum())
    # Python floats: a numpy scalar per number cost more than the rest of the explanation
    value_list, rank_list, weight_list = values.tolist(), ranks.tolist(), weights.tolist()
    parts = {
        name: {
            "value": round(value_list[j], 4),
            "rank": round(rank_list[j], 4),
            "weight": round(weight_list[j], 4),
            "contribution": round(weight_list[j] * rank_list[j] / total, 4),
        }
        for j, name in enumerate(names)
    }
    order = np.argsort(-(weights * ranks), kind="stable")[:3]
    deciding = [names[j] for j in order.tolist()]
    decided_by = [
        f"{LABELS[n]} {_format(n, float(values[names.index(n)]))} "
        f"(rank {parts[n]['rank']:.2f} in the district, weight {parts[n]['weight']:.2f})"
        for n in deciding
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
        "indicators": parts,
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
