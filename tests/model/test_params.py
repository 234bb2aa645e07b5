"""The training parameter object: every bad value is refused by name, before any data is read."""

from __future__ import annotations

from typing import Any

import pytest

from newsapi.model.params import DEFAULTS, ParameterError, TrainingParameters


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"alpha": -1}, "alpha: Input should be greater than 0"),
        ({"C": 0}, "C: Input should be greater than 0"),
        ({"classifier": "forest"}, "classifier: Input should be 'multinomial_nb'"),
        ({"ngram_max": 0}, "ngram_max: Input should be greater than or equal to 1"),
        ({"min_df": 0.5, "max_df": 0.2}, "min_df (0.5) is above max_df (0.2)"),
        ({"min_df": 5, "max_df": 2}, "min_df (5) is above max_df (2)"),
        ({"max_df": 1.5}, "max_df: a share must be in (0, 1]"),
        ({"min_df": 0}, "min_df: a document count must be >= 1"),
        ({"categories": "sci.space"}, "categories: expected a list, got the single string"),
        ({"categories": ["sci.space", "sci.cooking"]}, "unknown category 'sci.cooking'"),
        ({"categories": ["sci.space"]}, "categories: 1 given, a classifier needs 2 or more"),
        (
            {"remove": ["headers", "signatures"]},
            "remove: Input should be 'headers', 'footers' or 'quotes' (got 'signatures')",
        ),
        ({"remove": "headers"}, "remove: expected a list"),
        ({"test_size": 1.0}, "test_size: Input should be less than 1"),
        ({"sublinear_tf": "maybe"}, "sublinear_tf: Input should be a valid boolean"),
        ({"max_features": 0}, "max_features: Input should be greater than 0"),
        ({"classifer": "linear_svc"}, "classifer: unknown parameter; did you mean 'classifier'?"),
        ({"zzz": 1}, "zzz: unknown parameter; known: dataset, categories"),
    ],
)
def test_bad_value_is_refused_naming_the_parameter(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterError) as caught:
        TrainingParameters.build(values)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_defaults_are_the_books_model() -> None:
    assert DEFAULTS.classifier == "multinomial_nb"
    assert DEFAULTS.alpha == 1.0
    assert DEFAULTS.categories == [
        "soc.religion.christian", "talk.religion.misc", "comp.sys.mac.hardware", "sci.crypt",
    ]  # fmt: skip
    assert DEFAULTS.remove == []


def test_a_notebook_namespace_gives_the_same_object_and_ignores_other_names() -> None:
    namespace = {**DEFAULTS.model_dump(), "alpha": 0.1, "artifact_dir": "x", "promote": False}
    params = TrainingParameters.from_namespace(namespace)
    assert params == DEFAULTS.replace(alpha=0.1)
    assert TrainingParameters.build(params.model_dump()) == params


def test_counts_and_shares_keep_their_type() -> None:
    params = TrainingParameters.build({"min_df": 2, "max_df": 0.9})
    assert isinstance(params.min_df, int)
    assert isinstance(params.max_df, float)
    assert params.model_parameters()["min_df"] == 2
