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
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

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
    extra_train: str | None = Field(
        None,
        min_length=1,
        description="a CSV file of text,label rows added to the training split only (labels "
        "among the run's categories; the test split stays the corpus's own), e.g. the output "
        "of `newsapi feedback export`",
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

    @field_validator("extra_train")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        # named relative to where the user stands; the notebooks run elsewhere
        if value is not None and Path(value).expanduser().exists():
            return str(Path(value).expanduser().resolve())
        return value

    @model_serializer(mode="wrap")
    def _unused_left_out(self, handler: SerializerFunctionWrapHandler) -> Any:
        # extra_train is recorded only when used: the parameters of every run without it
        # (manifests, cards, the notebooks' injected parameters) read as before it existed
        data = handler(self)
        if isinstance(data, dict) and data.get("extra_train", "") is None:
            del data["extra_train"]
        return data

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
        # calibrate and extra_train are optional, shown when on: the printout of a run
        # without them (the book's executed notebooks) reads as before they existed
        for name, value in super().__repr_args__():
            if name not in ("calibrate", "extra_train") or value:
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
