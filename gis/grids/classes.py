"""Grid classes (reinforced / key / regular) from measured indicators: configuration and method.

Method (DESIGN §6, issue 6):

1. Each indicator is turned into a percentile rank within the district (mid-rank: ties share the
   average rank, so an indicator that is 0 everywhere ranks every grid 0.5 and decides nothing).
2. The score is the weighted mean of the ranks (defaults: population load 0.25, floating share
   0.20, rentals 0.15, organizations 0.15, key persons 0.15, event rate 0.10).
3. The score's own percentile within the district places the grid: the top
   ``reinforced_share`` (18%) reinforced, the next ``key_share`` (30%) key, the rest regular.
4. Hysteresis: a grid that already has a class moves up only when its percentile passes a
   cut-off by ``margin`` (4 points) and down only when it falls ``margin`` below it, so a grid
   near a cut-off does not flip on a tiny change.
5. Hard triggers raise the class whatever the score (floating share ≥ 50% → at least key, …);
   a triggered class is released only when the indicator falls ``trigger_margin`` (10%) below
   the trigger.

Everything is configuration (:class:`ClassConfig`, defaults here, optionally a JSON or TOML file).
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from gis.errors import InvalidInput
from gis.grids.models import GridClass
from gis.grids.schemas import Indicators

LEVELS = {GridClass.REGULAR: 0, GridClass.KEY: 1, GridClass.REINFORCED: 2}
CLASSES = {level: grid_class for grid_class, level in LEVELS.items()}
SCORE_INDICATORS = (
    "population_load",
    "floating_share",
    "rentals",
    "organizations",
    "key_persons",
    "event_rate",
)
TRIGGER_INDICATORS = (
    "floating_share",
    "floating_count",
    "resident_count",
    "households",
    "rented_houses",
    "large_rentals",
    "organizations",
    "key_person_count",
    "open_events",
)
LABELS = {
    "population_load": "population load",
    "floating_share": "floating share",
    "rentals": "rented houses",
    "organizations": "organizations",
    "key_persons": "key persons",
    "event_rate": "open events per 100 households",
    "floating_count": "floating residents",
    "resident_count": "residents",
    "households": "households",
    "rented_houses": "rented houses",
    "large_rentals": "large rentals (≥ 15 rented rooms)",
    "key_person_count": "key persons",
    "open_events": "open events",
}


@dataclass(frozen=True)
class Trigger:
    """``indicator ≥ at_least`` (in grids of at least ``min_residents`` residents) puts a grid in
    ``min_class`` or higher."""

    indicator: str
    at_least: float
    min_class: GridClass
    min_residents: int = 0


DEFAULT_TRIGGERS = (
    # mostly floating residents: registration and rentals need closer work
    Trigger("floating_share", 0.5, GridClass.KEY, min_residents=100),
    Trigger("floating_share", 0.8, GridClass.REINFORCED, min_residents=1000),
    # group rentals (群租房) are where fire and safety risks concentrate
    Trigger("large_rentals", 5, GridClass.KEY),
    Trigger("large_rentals", 20, GridClass.REINFORCED),
    Trigger("key_person_count", 10, GridClass.KEY),
    Trigger("key_person_count", 30, GridClass.REINFORCED),
    Trigger("open_events", 20, GridClass.KEY),
)


def _default_weights() -> dict[str, float]:
    return {
        "population_load": 0.25,
        "floating_share": 0.20,
        "rentals": 0.15,
        "organizations": 0.15,
        "key_persons": 0.15,
        "event_rate": 0.10,
    }


def _default_uplift() -> dict[str, int]:
    return {"reinforced": 1, "key": 0, "regular": 0}


def _number(value: object, *, field: str, whole: bool = False) -> float:
    """``value`` when it is a finite number (a whole one when ``whole``), else InvalidInput."""
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        wanted = "a whole number" if whole else "a number"
        raise InvalidInput(f"{value!r} is not {wanted}", field=field)
    return float(value)


@dataclass(frozen=True)
class ClassConfig:
    """Weights, cut-offs, margins, triggers and staffing rules of grid classes."""

    weights: dict[str, float] = field(default_factory=_default_weights)
    reinforced_share: float = 0.18
    key_share: float = 0.30
    margin: float = 0.04
    trigger_margin: float = 0.10
    triggers: tuple[Trigger, ...] = DEFAULT_TRIGGERS
    floating_per_officer: int = 500
    residents_per_officer: int = 3000
    officer_uplift: dict[str, int] = field(default_factory=_default_uplift)

    def __post_init__(self) -> None:
        self._check_types()
        unknown = set(self.weights) - set(SCORE_INDICATORS)
        if unknown:
            raise InvalidInput(f"unknown indicators {sorted(unknown)}", field="weights")
        if any(w < 0 for w in self.weights.values()) or sum(self.weights.values()) <= 0:
            raise InvalidInput("weights must be ≥ 0 and not all 0", field="weights")
        if not (
            self.reinforced_share > 0
            and self.key_share >= 0
            and self.reinforced_share + self.key_share < 1
        ):
            raise InvalidInput("need 0 < reinforced_share, key_share and their sum < 1")
        if not 0 <= self.margin < 0.5 or not 0 <= self.trigger_margin < 1:
            raise InvalidInput("margins must be within [0, 0.5) and [0, 1)", field="margin")
        for trigger in self.triggers:
            if trigger.indicator not in TRIGGER_INDICATORS:
                raise InvalidInput(f"unknown indicator {trigger.indicator!r}", field="triggers")

    def _check_types(self) -> None:
        """Numbers where numbers belong, named (a file's ``"abc"`` weight surfaced as Python's
        ``'<' not supported between instances of 'str' and 'int'``)."""
        if not isinstance(self.weights, dict) or not isinstance(self.officer_uplift, dict):
            raise InvalidInput("weights and officer_uplift are tables of numbers", field="config")
        for name, value in self.weights.items():
            _number(value, field=f"weights.{name}")
        for name in ("reinforced_share", "key_share", "margin", "trigger_margin"):
            _number(getattr(self, name), field=name)
        for name in ("floating_per_officer", "residents_per_officer"):
            if _number(getattr(self, name), field=name, whole=True) < 1:
                raise InvalidInput("at least 1", field=name)
        for name, value in self.officer_uplift.items():
            _number(value, field=f"officer_uplift.{name}", whole=True)
        for trigger in self.triggers:
            _number(trigger.at_least, field=f"triggers.{trigger.indicator}.at_least")
            _number(trigger.min_residents, field=f"triggers.{trigger.indicator}.min_residents",
                    whole=True)  # fmt: skip

    @property
    def cut_offs(self) -> dict[GridClass, float]:
        """The score percentile at which each class starts."""
        return {
            GridClass.REINFORCED: 1 - self.reinforced_share,
            GridClass.KEY: 1 - self.reinforced_share - self.key_share,
        }

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["triggers"] = [{**asdict(t), "min_class": str(t.min_class)} for t in self.triggers]
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ClassConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise InvalidInput(f"unknown settings {sorted(unknown)}", field="config")
        data = dict(values)
        for table in ("weights", "officer_uplift"):
            if table in data and not isinstance(data[table], dict):
                raise InvalidInput(f"{table} is a table of numbers", field=table)
        if "weights" in data:
            data["weights"] = {**_default_weights(), **data["weights"]}
        if "triggers" in data:
            try:
                data["triggers"] = tuple(
                    Trigger(**{**t, "min_class": GridClass(t["min_class"])})
                    for t in data["triggers"]
                )
            except (TypeError, KeyError, ValueError) as error:
                raise InvalidInput(f"a trigger is malformed: {error}", field="triggers") from None
        try:
            return cls(**data)
        except TypeError as error:
            raise InvalidInput(str(error), field="config") from None

    @classmethod
    def load(cls, path: Path | None) -> ClassConfig:
        """The defaults, overridden by a JSON or TOML file when one is given."""
        if path is None:
            return cls()
        if not path.exists():
            raise InvalidInput(f"{path} does not exist", field="config")
        suffix = path.suffix.lower()
        if suffix not in (".json", ".toml"):
            raise InvalidInput(f"{path.name}: a .json or .toml file", field="config")
        try:
            if suffix == ".toml":
                values = tomllib.loads(path.read_text(encoding="utf-8"))
            else:
                values = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, tomllib.TOMLDecodeError) as error:
            raise InvalidInput(f"{path.name} is not valid: {error}", field="config") from None
        if not isinstance(values, dict):
            raise InvalidInput(f"{path.name} is not a table of settings", field="config")
        return cls.from_dict(values)


def officers_needed(indicators: Indicators, grid_class: str | None, config: ClassConfig) -> int:
    """max(ceil(floating / 500), ceil(residents / 3000)), at least 1 (one officer per grid),
    plus the class uplift (reinforced +1 by default)."""
    return officers_for(
        floating=indicators.floating_count,
        residents=indicators.resident_count,
        grid_class=grid_class,
        config=config,
    )


def officers_for(
    *, floating: int, residents: int, grid_class: str | None, config: ClassConfig
) -> int:
    """:func:`officers_needed` from the two counts."""
    base = max(
        math.ceil(floating / config.floating_per_officer),
        math.ceil(residents / config.residents_per_officer),
        1,
    )
    return base + config.officer_uplift.get(grid_class or "regular", 0)


def score_values(indicators: Indicators) -> dict[str, float]:
    """The six scored indicators of a grid. Population load is residents, or households when
    residents are estimated; the event rate is open events per 100 households."""
    load = indicators.households if indicators.households_estimated else indicators.resident_count
    return {
        "population_load": float(load),
        "floating_share": indicators.floating_share,
        "rentals": float(indicators.rented_houses),
        "organizations": float(indicators.organizations),
        "key_persons": float(indicators.key_person_count),
        "event_rate": 100.0 * indicators.open_events / max(indicators.households, 1),
    }


def percentile_ranks(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Mid-rank percentiles in (0, 1): (number below + half the number equal) / n.

    >>> percentile_ranks(np.array([0.0, 10.0, 10.0, 30.0])).tolist()
    [0.125, 0.5, 0.5, 0.875]
    """
    n = len(values)
    if n == 0:
        return np.zeros(0)
    ordered = np.sort(values)
    below = np.searchsorted(ordered, values, side="left")
    at_or_below = np.searchsorted(ordered, values, side="right")
    return np.asarray((below + (at_or_below - below) / 2) / n, dtype=np.float64)


@dataclass(frozen=True)
class ClassResult:
    """The class of one grid and why."""

    grid_class: GridClass
    raw_class: GridClass
    score: float
    percentile: float
    explanation: dict[str, Any]


def classify(
    measured: list[Indicators],
    *,
    previous: list[GridClass | None],
    config: ClassConfig,
    notes: list[str] | None = None,
) -> list[ClassResult]:
    """Classes of the grids of one district (see the module docstring), explained
    (``gis.grids.class_arrays`` does the same for thousands of grids without the words)."""
    from gis.grids.explain import Parts, explain  # local: explanation wording lives apart

    if not measured:
        return []
    names = [name for name in SCORE_INDICATORS if config.weights.get(name, 0) > 0]
    values = [score_values(m) for m in measured]
    table = np.array([[row[name] for name in names] for row in values], dtype=np.float64)
    ranks = np.column_stack([percentile_ranks(table[:, j]) for j in range(len(names))])
    weights = np.array([config.weights[name] for name in names])
    scores = ranks @ weights / weights.sum()
    percentiles = percentile_ranks(scores)
    parts = Parts.of(names, table, ranks, weights)
    results = []
    for i, indicators in enumerate(measured):
        raw = _band(float(percentiles[i]), config, shift=0.0)
        level = _with_hysteresis(float(percentiles[i]), previous[i], config)
        fired = _triggers(indicators, previous[i], config)
        final = max([level, *(LEVELS[t.min_class] for t in fired)])
        explanation = explain(
            parts=parts,
            row=i,
            score=float(scores[i]),
            percentile=float(percentiles[i]),
            raw=CLASSES[raw],
            hysteresis_level=level,
            final=CLASSES[final],
            previous=previous[i],
            fired=fired,
            indicators=indicators,
            config=config,
            notes=notes or [],
        )
        results.append(
            ClassResult(
                CLASSES[final], CLASSES[raw], float(scores[i]), float(percentiles[i]), explanation
            )
        )
    return results


def _band(percentile: float, config: ClassConfig, *, shift: float) -> int:
    """The highest level whose cut-off (moved by ``shift``) the percentile reaches."""
    cuts = config.cut_offs
    if percentile >= cuts[GridClass.REINFORCED] + shift:
        return 2
    if percentile >= cuts[GridClass.KEY] + shift:
        return 1
    return 0


def _with_hysteresis(percentile: float, previous: GridClass | None, config: ClassConfig) -> int:
    """Without a previous class: the band. With one: stay unless the percentile passes a
    cut-off upwards by the margin, or falls below one by the margin."""
    if previous is None:
        return _band(percentile, config, shift=0.0)
    up = _band(percentile, config, shift=config.margin)
    down = _band(percentile, config, shift=-config.margin)
    current = LEVELS[previous]
    return up if current < up else down if current > down else current


def _triggers(
    indicators: Indicators, previous: GridClass | None, config: ClassConfig
) -> list[Trigger]:
    """Triggers that hold: reached, or held before and not yet ``trigger_margin`` below."""
    values = {
        name: float(getattr(indicators, name))
        for name in TRIGGER_INDICATORS
        if name != "floating_share"
    }
    values["floating_share"] = indicators.floating_share
    previous_level = LEVELS[previous] if previous is not None else -1
    fired = []
    for trigger in config.triggers:
        if indicators.resident_count < trigger.min_residents:
            continue
        value = values[trigger.indicator]
        held = previous_level >= LEVELS[trigger.min_class]
        floor = trigger.at_least * (1 - config.trigger_margin) if held else trigger.at_least
        if value >= floor and value > 0:
            fired.append(trigger)
    return fired
