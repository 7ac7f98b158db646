"""Grid classes: weighted percentile ranks, shares per class, triggers, hysteresis, config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gis.errors import InvalidInput
from gis.grids.class_arrays import classify_arrays, columns_of
from gis.grids.classes import ClassConfig, classify, officers_needed
from gis.grids.models import GridClass
from gis.grids.schemas import Indicators


def district(n: int = 50) -> list[Indicators]:
    """``n`` grids whose every indicator grows with their index (grid n-1 is the busiest)."""
    return [
        Indicators(
            households=300 + 5 * i,
            resident_count=800 + 20 * i,
            floating_count=100 + 8 * i,
            rented_houses=20 + 3 * i,
            organizations=i // 2,
            key_person_count=i // 10,
        )
        for i in range(n)
    ]


def test_every_grid_gets_a_class_and_an_explanation() -> None:
    results = classify(district(), previous=[None] * 50, config=ClassConfig())
    classes = [r.grid_class for r in results]
    assert classes.count(GridClass.REINFORCED) == 9  # the top 18%
    assert classes.count(GridClass.KEY) == 15  # the next 30%
    assert classes[-1] is GridClass.REINFORCED and classes[0] is GridClass.REGULAR
    for result in results:
        explanation = result.explanation
        assert explanation["class"] == str(result.grid_class)
        assert len(explanation["decided_by"]) == 3
        assert "percentile" in explanation["summary"]
        assert set(explanation["indicators"]) == {
            "population_load",
            "floating_share",
            "rentals",
            "organizations",
            "key_persons",
            "event_rate",
        }
        assert not any("events" in note for note in explanation["notes"])


def test_a_grid_near_a_cut_off_does_not_flip_on_a_tiny_change() -> None:
    config = ClassConfig()
    grids = district()
    first = classify(grids, previous=[None] * 50, config=config)
    # the lowest key grid sits right on the key cut-off
    edge = min(i for i, r in enumerate(first) if r.grid_class is GridClass.KEY)
    assert abs(first[edge].percentile - config.cut_offs[GridClass.KEY]) < 0.03
    previous: list[GridClass | None] = [r.grid_class for r in first]
    tiny = list(grids)
    below = grids[edge - 1]
    tiny[edge] = Indicators(  # just below its lower neighbour: 6 households fewer than before
        households=below.households - 1,
        resident_count=below.resident_count - 1,
        floating_count=below.floating_count - 1,
        rented_houses=below.rented_houses - 1,
        organizations=below.organizations,
        key_person_count=below.key_person_count,
    )
    without_memory = classify(tiny, previous=[None] * 50, config=config)
    assert without_memory[edge].grid_class is GridClass.REGULAR  # it would flip…
    with_memory = classify(tiny, previous=previous, config=config)
    assert with_memory[edge].grid_class is GridClass.KEY  # …but the margin holds it
    assert "kept key" in with_memory[edge].explanation["hysteresis"]
    changed = [i for i, r in enumerate(with_memory) if r.grid_class != previous[i]]
    assert changed == []
    # a large change passes the margin
    big = list(grids)
    big[edge] = grids[0]
    moved = classify(big, previous=previous, config=config)
    assert moved[edge].grid_class is GridClass.REGULAR


def test_hard_triggers_raise_the_class_and_say_so() -> None:
    grids = district()
    quiet = Indicators(households=300, resident_count=200, floating_count=130, rented_houses=0)
    grids[0] = quiet  # the lowest score, but 65% floating
    result = classify(grids, previous=[None] * 50, config=ClassConfig())[0]
    assert result.raw_class is GridClass.REGULAR
    assert result.grid_class is GridClass.KEY
    assert "floating share 65% ≥ 50% → at least key" in result.explanation["triggers"]


def test_configuration_from_json_and_toml(tmp_path: Path) -> None:
    path = tmp_path / "classes.json"
    path.write_text(json.dumps({"weights": {"floating_share": 0.6}, "reinforced_share": 0.1}))
    config = ClassConfig.load(path)
    assert config.weights["floating_share"] == 0.6 and config.weights["rentals"] == 0.15
    results = classify(district(), previous=[None] * 50, config=config)
    assert [r.grid_class for r in results].count(GridClass.REINFORCED) == 5
    toml = tmp_path / "classes.toml"
    toml.write_text(
        'margin = 0.1\n[[triggers]]\nindicator = "large_rentals"\nat_least = 1\n'
        'min_class = "reinforced"\n'
    )
    assert ClassConfig.load(toml).triggers[0].min_class is GridClass.REINFORCED
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"wieghts": {}}))
    with pytest.raises(InvalidInput, match="unknown settings"):
        ClassConfig.load(bad)
    # a list, or a file of another kind, was read as "no settings": the defaults
    bad.write_text("[]")
    with pytest.raises(InvalidInput, match="not a table of settings"):
        ClassConfig.load(bad)
    yaml = tmp_path / "classes.yaml"
    yaml.write_text("{}")
    with pytest.raises(InvalidInput, match=r"a \.json or \.toml file"):
        ClassConfig.load(yaml)


def test_officers_needed() -> None:
    config = ClassConfig()
    assert (
        officers_needed(Indicators(resident_count=6001, floating_count=900), "regular", config) == 3
    )
    assert officers_needed(Indicators(resident_count=100, floating_count=1001), "key", config) == 3
    assert officers_needed(Indicators(), "regular", config) == 1
    assert officers_needed(Indicators(resident_count=100), "reinforced", config) == 2


def test_the_vectorised_classes_equal_the_explained_ones() -> None:
    grids = district()
    grids[0] = Indicators(households=300, resident_count=200, floating_count=130)
    grids[7] = Indicators(households=310, resident_count=900, large_rentals=25)
    previous = [None, *[GridClass.KEY] * 20, *[None] * 29]
    explained = classify(grids, previous=previous, config=ClassConfig())
    vectorised = classify_arrays(
        columns_of([g.as_dict() for g in grids]), previous=previous, config=ClassConfig()
    )
    assert [r.grid_class for r in explained] == [vectorised.grid_class(i) for i in range(50)]
    assert [r.explanation["deciding"] for r in explained] == vectorised.deciding
    assert explained[7].explanation["trigger_names"] == vectorised.triggers[7]


@pytest.mark.parametrize(
    ("values", "field", "reason"),
    [
        ({"weights": {"population_load": "abc"}}, "weights.population_load", "not a number"),
        ({"weights": {"rentals": True}}, "weights.rentals", "not a number"),
        ({"margin": "0.1"}, "margin", "not a number"),
        ({"reinforced_share": float("nan")}, "reinforced_share", "not a number"),
        ({"floating_per_officer": 0}, "floating_per_officer", "at least 1"),
        ({"residents_per_officer": 2.5}, "residents_per_officer", "not a whole number"),
        ({"officer_uplift": {"key": "one"}}, "officer_uplift.key", "not a whole number"),
        ({"weights": [1, 2]}, "weights", "a table of numbers"),
        (
            {"triggers": [{"indicator": "rentals", "at_least": "x", "min_class": "key"}]},
            "triggers.rentals.at_least",
            "not a number",
        ),
    ],
)
def test_a_configuration_of_the_wrong_types_names_the_setting(
    values: dict[str, object], field: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        ClassConfig.from_dict(values)
    assert refused.value.field == field and reason in str(refused.value)
