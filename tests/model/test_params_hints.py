"""What the training parameters tell a user: a misspelled category gets the closest name, the
messages speak YAML (``null``, what ``-y`` reads), the help table is read off the fields, and
the new ``calibrate`` step leaves the book's printout as it was."""

from __future__ import annotations

import json

import pytest

from newsapi.model.data import ALL_CATEGORIES
from newsapi.model.params import (
    CLASSIFIER_KINDS,
    CLASSIFIERS,
    DEFAULTS,
    ParameterError,
    TrainingParameters,
)
from newsapi.model.params_cli import parameter_help
from tests.support import ROOT


def refusal(values: dict[str, object]) -> str:
    with pytest.raises(ParameterError) as caught:
        TrainingParameters.build(values)
    return str(caught.value)


def test_a_misspelled_category_gets_the_closest_name_not_all_twenty() -> None:
    message = refusal({"categories": ["sci.spaec", "rec.autos"]})
    assert message == "categories: unknown category 'sci.spaec'; did you mean 'sci.space'?"


def test_each_misspelled_category_is_named_with_its_suggestion() -> None:
    message = refusal({"categories": ["sci.spaec", "rec.autso", "sci.med"]})
    assert "'sci.spaec'; did you mean 'sci.space'?" in message
    assert "'rec.autso'; did you mean 'rec.autos'?" in message


def test_a_category_like_none_lists_the_twenty_and_says_null() -> None:
    message = refusal({"categories": ["zzz", "rec.autos"]})
    assert all(name in message for name in ALL_CATEGORIES)
    assert "null" in message
    assert "None" not in message


def test_too_few_categories_say_null_not_none() -> None:
    message = refusal({"categories": ["sci.space"]})
    assert message.startswith("categories: 1 given, a classifier needs 2 or more")
    assert "null for all 20" in message
    assert "None" not in message


def test_the_help_table_has_every_field_with_type_default_and_range() -> None:
    rows = dict(parameter_help())
    assert list(rows) == list(TrainingParameters.model_fields)
    assert rows["alpha"].startswith("float, default 1.0, in (0, 100]: ")
    assert rows["C"].startswith("float, default 1.0, in (0, 10000]: ")
    assert rows["ngram_max"].startswith("int, default 1, in [1, 5]: ")
    assert rows["test_size"].startswith("float, default 0.25, in (0, 1): ")
    assert rows["max_features"].startswith("int or null, default null, > 0: ")
    assert rows["random_state"].startswith("int, default 0, >= 0: ")
    assert rows["calibrate"].startswith("bool, default false: ")
    assert rows["classifier"].startswith(" | ".join(CLASSIFIERS) + ", default multinomial_nb: ")
    assert rows["categories"].startswith("list of str or null, default [soc.religion.christian, ")
    assert rows["remove"].startswith("list of headers | footers | quotes, default []: ")
    for name, field in TrainingParameters.model_fields.items():
        assert rows[name].endswith(f": {field.description}")


def test_alpha_and_c_belong_to_their_classifiers_only() -> None:
    for name, kind in CLASSIFIER_KINDS.items():
        assert kind.uses("alpha") == (name in ("multinomial_nb", "complement_nb", "sgd"))
        assert kind.uses("C") == (name in ("linear_svc", "logistic_regression"))
        assert kind.uses("ngram_max")
        assert kind.uses("calibrate")


def test_calibrate_is_off_by_default_and_shown_only_when_on() -> None:
    assert DEFAULTS.calibrate is False
    assert "calibrate" not in repr(DEFAULTS)
    assert str(DEFAULTS.replace(calibrate=True)).endswith(" random_state=0 calibrate=True")
    assert DEFAULTS.model_dump()["calibrate"] is False  # what a manifest records


def test_the_committed_training_notebook_prints_what_the_parameters_print() -> None:
    """01_train.ipynb's parameters cell (now with calibrate) still builds parameters whose
    printout is the committed output, which nbval compares."""
    import ast

    cells = json.loads((ROOT / "notebooks" / "01_train.ipynb").read_text())["cells"]
    source = "".join(
        next(c for c in cells if "parameters" in c["metadata"].get("tags", []))["source"]
    )
    namespace = {
        node.targets[0].id: ast.literal_eval(node.value)  # type: ignore[attr-defined]
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
    }
    assert namespace["calibrate"] is False
    printed = next(c for c in cells if "print(params)" in "".join(c["source"]))
    committed = "".join(printed["outputs"][0]["text"])
    assert committed == f"{TrainingParameters.from_namespace(namespace)}\n"
