"""The training parameters: one validated object, the single place they are declared.

``01_train.ipynb``'s ``parameters`` cell holds the same names as plain defaults (papermill's
convention); the notebook builds :class:`TrainingParameters` from them, which checks every
value before any data is read. The same object feeds
:func:`newsapi.training.pipeline.build_pipeline`,
is what a manifest records under ``parameters``, and is what ``newsapi runs`` shows.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import UnionType
from typing import Any, Literal, Self, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from newsapi.errors import NewsapiError
from newsapi.model.data import ALL_CATEGORIES, DEFAULT_CATEGORIES, NEWSGROUPS

ClassifierName = Literal[
    "multinomial_nb", "complement_nb", "linear_svc", "logistic_regression", "sgd"
]
CLASSIFIERS: tuple[str, ...] = ClassifierName.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ClassifierKind:
    """What the rest of the project needs to know of one classifier it can train."""

    estimator: str  #: the scikit-learn class's name
    main_parameter: str  #: the hyperparameter a sweep's score curve follows
    weights: str  #: the fitted (classes x features) array its predictions multiply by
    probabilities: bool  #: whether it has ``predict_proba`` (without ``calibrate``)

    def uses(self, name: str) -> bool:
        """Whether a training parameter shapes this classifier: ``alpha`` and ``C`` each tune
        only the classifiers whose main parameter they are, every other one applies to all."""
        return name not in ("alpha", "C") or name == self.main_parameter


#: the one table of the classifiers newsapi trains (built in newsapi.training.pipeline)
CLASSIFIER_KINDS: dict[str, ClassifierKind] = {
    "multinomial_nb": ClassifierKind("MultinomialNB", "alpha", "feature_log_prob_", True),
    "complement_nb": ClassifierKind("ComplementNB", "alpha", "feature_log_prob_", True),
    "linear_svc": ClassifierKind("LinearSVC", "C", "coef_", False),
    "logistic_regression": ClassifierKind("LogisticRegression", "C", "coef_", True),
    "sgd": ClassifierKind("SGDClassifier", "alpha", "coef_", True),  # modified Huber loss
}
Removable = Literal["headers", "footers", "quotes"]

#: what the corpus is and how it is split: fixed for a whole sweep
DATA_FIELDS = ("dataset", "categories", "remove", "test_size")
#: what shapes the pipeline: what a sweep may vary
MODEL_FIELDS = (
    "classifier",
    "alpha",
    "C",
    "ngram_max",
    "min_df",
    "max_df",
    "sublinear_tf",
    "max_features",
    "random_state",
    "calibrate",
)


class ParameterError(NewsapiError, ValueError):
    """A training parameter is unknown or out of its domain; the message names it."""


class TrainingParameters(BaseModel):
    """Everything that decides what a training run produces (the data folder does not).

    The defaults are the book's model: ``TfidfVectorizer() + MultinomialNB()`` on four
    categories of the 20 newsgroups, headers kept.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    dataset: str = Field(
        NEWSGROUPS,
        min_length=1,
        description='"20newsgroups", a CSV file with text,label columns, or a folder of one '
        "sub-folder per class",
    )
    categories: list[str] | None = Field(
        list(DEFAULT_CATEGORIES),
        description="20 newsgroups only: the categories to keep (null: all 20)",
    )
    remove: list[Removable] = Field(
        [], description="20 newsgroups only: parts of each post to strip"
    )
    test_size: float = Field(
        0.25, gt=0, lt=1, description="CSV and folder corpora: the share held out for testing"
    )
    classifier: ClassifierName = Field("multinomial_nb", description="the estimator after TF-IDF")
    alpha: float = Field(
        1.0, gt=0, le=100, description="smoothing (naive Bayes) or regularisation x 1e-4 (sgd)"
    )
    C: float = Field(
        1.0, gt=0, le=1e4, description="inverse regularisation (linear_svc, logistic_regression)"
    )
    ngram_max: int = Field(1, ge=1, le=5, description="longest word n-gram in the vocabulary")
    min_df: int | float = Field(
        1, description="drop terms in fewer documents (count) or a smaller share (0-1)"
    )
    max_df: int | float = Field(
        1.0, description="drop terms in more documents (count) or a larger share (0-1)"
    )
    sublinear_tf: bool = Field(False, description="use 1 + log(tf) instead of tf")
    max_features: int | None = Field(None, gt=0, description="keep the most frequent terms only")
    random_state: int = Field(0, ge=0, description="seed of the split and of the estimators")
    calibrate: bool = Field(
        False,
        description="wrap the classifier in CalibratedClassifierCV (sigmoid, 5 folds): "
        "probabilities for linear_svc, better-calibrated ones for the others",
    )

    @field_validator("categories", "remove", mode="before")
    @classmethod
    def _no_bare_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError(
                f"expected a list, got the single string {value!r}; write a list, "
                f"e.g. -y '{{categories: [{value}, ...]}}' or ['{value}'] in a notebook"
            )
        return value

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        unknown = [name for name in dict.fromkeys(value) if name not in ALL_CATEGORIES]
        if unknown:
            raise ValueError("; ".join(_unknown_category(name) for name in unknown))
        if len(set(value)) < 2:
            raise ValueError(
                f"{len(set(value))} given, a classifier needs 2 or more; name them, or write "
                "null for all 20"
            )
        return sorted(set(value), key=value.index)

    @field_validator("min_df", "max_df")
    @classmethod
    def _document_frequency(cls, value: int | float) -> int | float:
        if isinstance(value, bool):
            raise ValueError("must be a count (>= 1) or a share (0-1], not a boolean")
        if isinstance(value, float) and not 0 < value <= 1:
            raise ValueError(f"a share must be in (0, 1], got {value}")
        if isinstance(value, int) and value < 1:
            raise ValueError(f"a document count must be >= 1, got {value}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _newsgroups_only(cls, data: Any) -> Any:
        # categories and remove choose among the 20 newsgroups' posts; another corpus's
        # categories are its own labels, so a value here would record a default that did not
        # apply (and /model would report it): null and [] say what was done
        if isinstance(data, Mapping) and data.get("dataset", NEWSGROUPS) != NEWSGROUPS:
            return {**data, "categories": None, "remove": []}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        both_shares = isinstance(self.min_df, float) and isinstance(self.max_df, float)
        both_counts = isinstance(self.min_df, int) and isinstance(self.max_df, int)
        if (both_shares or both_counts) and self.min_df > self.max_df:
            raise ValueError(
                f"min_df ({self.min_df}) is above max_df ({self.max_df}): no term would be kept"
            )
        return self

    def __repr_args__(self) -> Any:
        # calibrate is an optional step, shown when on: the printout of a run without it
        # (the book's executed notebooks) reads as before the step existed
        for name, value in super().__repr_args__():
            if name != "calibrate" or value:
                yield name, value

    # construction from the places parameters come from -----------------------------------

    @classmethod
    def build(cls, values: Mapping[str, Any]) -> TrainingParameters:
        """Validated parameters from ``values``; :class:`ParameterError` naming the first bad one.

        Unknown names are refused with the closest known name suggested.
        """
        check_names(values)
        try:
            return cls.model_validate(dict(values))
        except ValidationError as exc:
            raise ParameterError(describe(exc)) from None

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]) -> TrainingParameters:
        """The parameters named like this object's fields in ``namespace`` (a notebook's
        ``globals()``), so that the notebook does not list them a second time."""
        return cls.build({name: namespace[name] for name in cls.model_fields if name in namespace})

    def model_parameters(self) -> dict[str, Any]:
        """The fields that shape the pipeline (what a sweep varies)."""
        return {name: getattr(self, name) for name in MODEL_FIELDS}

    def replace(self, **changes: Any) -> TrainingParameters:
        """A validated copy with ``changes``."""
        return type(self).build({**self.model_dump(), **changes})


def _unknown_category(name: Any) -> str:
    close = difflib.get_close_matches(str(name), ALL_CATEGORIES, n=1)
    if close:
        return f"unknown category {name!r}; did you mean {close[0]!r}?"
    return (
        f"unknown category {name!r}; the 20 newsgroups are {', '.join(ALL_CATEGORIES)} "
        "(null: all 20)"
    )


def check_names(names: Iterable[str], extra: Iterable[str] = ()) -> None:
    """Refuse any name that is not a training parameter (or one of ``extra``)."""
    known = [*TrainingParameters.model_fields, *extra]
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
            raise ParameterError(f"{name}: unknown parameter{hint}")


def parameter_help() -> list[tuple[str, str]]:
    """Each training parameter with its type, default, range and meaning, read off
    :class:`TrainingParameters`' fields (what ``newsapi train --help`` lists)."""
    rows = []
    for name, field in TrainingParameters.model_fields.items():
        parts = [_type_name(field.annotation), f"default {_yaml_value(field.default)}"]
        bounds = _bounds(field.metadata)
        if bounds:
            parts.append(bounds)
        rows.append((name, f"{', '.join(parts)}: {field.description}"))
    return rows


def _type_name(annotation: Any) -> str:
    """A field's type as -p and -y read it: ``float``, ``list of str``, ``a | b``, ``null``."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return " | ".join(str(arg) for arg in args)
    if origin in (Union, UnionType):
        return " or ".join(_type_name(arg) for arg in args)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if annotation is type(None):
        return "null"
    return str(getattr(annotation, "__name__", annotation))


def _yaml_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_value(item) for item in value) + "]"
    return str(value)


def _bounds(metadata: list[Any]) -> str:
    """The range that the field's ``gt``/``ge``/``lt``/``le`` constraints allow."""
    import annotated_types as at

    low = high = ""
    for item in metadata:
        if isinstance(item, at.Gt):
            low = f"({item.gt:g}"
        elif isinstance(item, at.Ge):
            low = f"[{item.ge:g}"
        elif isinstance(item, at.Lt):
            high = f"{item.lt:g})"
        elif isinstance(item, at.Le):
            high = f"{item.le:g}]"
    if low and high:
        return f"in {low}, {high}"
    if low:
        return f"{'>' if low[0] == '(' else '>='} {low[1:]}"
    if high:
        return f"{'<' if high[-1] == ')' else '<='} {high[:-1]}"
    return ""


def read_values(pairs: Iterable[tuple[str, str]], yaml_texts: Iterable[str]) -> dict[str, Any]:
    """Command-line values: ``-y`` mappings then ``-p NAME VALUE`` pairs, later ones winning;
    every value is read as YAML (``1e-2``, ``true``, ``null``, ``[a, b]``), text stays text."""
    import yaml

    values: dict[str, Any] = {}
    for text in yaml_texts:
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ParameterError(f"-y {text!r} is not YAML ({exc.__class__.__name__})") from None
        if not isinstance(loaded, dict):
            raise ParameterError(f"-y {text!r} must be a mapping such as 'alpha: 0.1'")
        values.update(loaded)
    for name, raw in pairs:
        try:
            values[name] = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            values[name] = raw
    return values


def describe(exc: ValidationError) -> str:
    """One line per problem, each starting with the parameter's name."""
    lines = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"] if not str(part).startswith("function"))
        where = where.split(".")[0] if where else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        if "input" in error and error["type"] not in ("value_error", "assertion_error"):
            message = f"{message} (got {error['input']!r})"
        lines.append(f"{where}: {message}" if where else message)
    return "; ".join(dict.fromkeys(lines))


#: the parameters of the book's model
DEFAULTS = TrainingParameters()
