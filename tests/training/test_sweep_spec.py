"""A sweep is checked whole before any data is read: names, values, every combination."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from newsapi.model.params import MODEL_FIELDS, ParameterError
from newsapi.training.sweep.search import SweepEstimator
from newsapi.training.sweep.spec import MAX_CANDIDATES, SweepSpec

GRID = {"classifier": ["multinomial_nb", "complement_nb"], "alpha": [0.01, 1]}


def test_a_mapping_is_a_grid_of_one_and_values_take_the_parameters_types() -> None:
    spec = SweepSpec.build({"grid": GRID, "cv": 5, "categories": ["sci.crypt", "sci.space"]})
    assert spec.grid == [{"classifier": ["multinomial_nb", "complement_nb"], "alpha": [0.01, 1.0]}]
    assert isinstance(spec.grid[0]["alpha"][1], float)
    assert spec.n_candidates == spec.grid_size == 4
    assert spec.cv == 5
    assert spec.base.categories == ["sci.crypt", "sci.space"]
    assert spec.varied() == ["classifier", "alpha"]


def test_sub_grids_count_their_own_candidates_and_defaults_count_as_values() -> None:
    spec = SweepSpec.build(
        {
            "grid": [
                {"classifier": ["multinomial_nb"], "alpha": [0.1, 1.0]},
                {"classifier": ["linear_svc"], "C": [1.0], "sublinear_tf": [True]},
            ]
        }
    )
    assert spec.grid_size == 3
    # sublinear_tf is True for the SVM and the default False for naive Bayes: it varies
    assert spec.varied() == ["classifier", "alpha", "sublinear_tf"]


def test_a_random_search_draws_at_most_the_grid() -> None:
    spec = SweepSpec.build({"grid": GRID, "search": "random", "n_iter": 3})
    assert (spec.n_candidates, spec.grid_size) == (3, 4)
    assert SweepSpec.build({**spec_values(), "search": "random", "n_iter": 50}).n_candidates == 4
    assert spec.record() == {
        "grid": spec.grid,
        "search": "random",
        "cv": 3,
        "scoring": "f1_macro",
        "candidates": 3,
        "grid_size": 4,
        "n_iter": 3,
    }


def spec_values(**changes: Any) -> dict[str, Any]:
    return {"grid": GRID, **changes}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"grid": {"alfa": [1.0]}}, "alfa: unknown grid parameter; did you mean 'alpha'?"),
        ({"grid": {"alpha": [0.1, -1]}}, "grid.alpha: Input should be greater than 0 (got -1)"),
        ({"grid": {"classifier": ["forest"]}}, "grid.classifier: Input should be"),
        ({"grid": {"alpha": 0.1}}, "grid.alpha: expected a non-empty list of values, got 0.1"),
        ({"grid": {"alpha": []}}, "grid.alpha: expected a non-empty list"),
        ({"grid": {"remove": [["headers"]]}}, "grid.remove: remove is fixed for the whole sweep"),
        ({"grid": {"random_state": [1, 2]}}, "grid.random_state: random_state is fixed"),
        ({"grid": {"min_df": [5], "max_df": [2, 10]}}, "grid: the candidate {'max_df': 2, "),
        ({"grid": []}, "grid: expected a mapping"),
        ({"grid": [{}]}, "grid: every sub-grid must be a non-empty mapping"),
        ({"grid": "alpha"}, "grid: expected a mapping"),
        ({}, "grid: missing"),
        (spec_values(serch="grid"), "serch: unknown sweep parameter; did you mean 'search'?"),
        (spec_values(alpha=0.1), "alpha: a model parameter is set in the grid"),
        (spec_values(search="exhaustive"), "search: Input should be 'grid' or 'random'"),
        (spec_values(cv=1), "cv: Input should be greater than or equal to 2"),
        (spec_values(n_jobs=0), "n_jobs: 0 runs nothing"),
        (spec_values(scoring="f1macro"), "unknown scorer 'f1macro'; did you mean 'f1_macro'?"),
        (spec_values(scoring="roc_auc"), "scoring: unknown scorer 'roc_auc'"),
        (spec_values(dask_scheduler="my laptop"), "dask_scheduler: 'my laptop' is neither None"),
        (spec_values(categories="sci.space"), "categories: expected a list, got the single string"),
        (spec_values(test_size=2), "test_size: Input should be less than 1"),
    ],
)  # fmt: skip
def test_a_bad_sweep_is_refused_naming_what_is_wrong(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterError) as caught:
        SweepSpec.build(values)
    assert message in str(caught.value)


def test_the_number_of_candidates_is_bounded() -> None:
    values = list(range(1, 72))
    grid = {"ngram_max": [1, 2], "min_df": values, "max_features": values}
    assert MAX_CANDIDATES < 2 * 71 * 71
    with pytest.raises(ParameterError, match=f"more than {MAX_CANDIDATES}"):
        SweepSpec.build({"grid": grid})


@pytest.mark.parametrize(
    "address", [None, "local", "tcp://10.0.0.5:8786", "127.0.0.1:8786", "tls://sched.example:1"]
)
def test_scheduler_addresses(address: str | None) -> None:
    assert SweepSpec.build(spec_values(dask_scheduler=address)).dask_scheduler == address


def test_from_namespace_takes_the_notebooks_names_only() -> None:
    namespace = {**spec_values(cv=4), "artifact_dir": "../artifacts", "store_best": True, "x": 1}
    assert SweepSpec.from_namespace(namespace).cv == 4


def test_the_estimator_takes_exactly_the_model_parameters() -> None:
    names = list(inspect.signature(SweepEstimator).parameters)
    assert names == list(MODEL_FIELDS)
