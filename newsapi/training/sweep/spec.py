"""What a sweep is: the grid, the search, the cross-validation and where it runs, all checked
before any data is read.

The grid uses the training parameters' own names and validation (:mod:`newsapi.model.params`): every
value, and every combination of values, must make a valid :class:`TrainingParameters`. The data
parameters (corpus, categories, removed parts, split) and ``random_state`` are fixed for the
whole sweep; the grid varies the parameters that shape the pipeline.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sklearn.model_selection import ParameterGrid

from newsapi.model.params import (
    DATA_FIELDS,
    DEFAULTS,
    MODEL_FIELDS,
    ParameterError,
    TrainingParameters,
    describe,
)

#: what a grid may vary: the pipeline's parameters; random_state seeds the whole sweep
GRID_FIELDS = tuple(name for name in MODEL_FIELDS if name != "random_state")
#: the sweep's own settings, beside the fixed training parameters
SWEEP_FIELDS = ("grid", "search", "n_iter", "cv", "scoring", "n_jobs", "dask_scheduler")
#: every name a sweep is built from
SPEC_NAMES = (*SWEEP_FIELDS, *DATA_FIELDS, "random_state")
#: scorers that need only ``predict`` (the pipelines of every classifier have it)
SCORINGS = (
    "f1_macro",
    "accuracy",
    "balanced_accuracy",
    "f1_weighted",
    "f1_micro",
    "precision_macro",
    "recall_macro",
    "jaccard_macro",
    "matthews_corrcoef",
)
#: a bound on the work (and on the validation of every combination) a grid may ask for
MAX_CANDIDATES = 5000
_ADDRESS = re.compile(r"^(?:(tcp|tls|ws|wss|ucx)://)?[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")

Grid = list[dict[str, list[Any]]]


class SweepSpec(BaseModel):
    """A validated sweep; build it with :meth:`build` (one clear error naming what is wrong)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    grid: Grid = Field(description="training-parameter name -> values (or a list of such grids)")
    search: Literal["grid", "random"] = Field("grid", description="every candidate, or n_iter")
    n_iter: int = Field(10, ge=1, le=MAX_CANDIDATES, description="candidates a random search draws")
    cv: int = Field(3, ge=2, le=20, description="stratified folds of the training split")
    scoring: str = Field("f1_macro", description="what the folds score and the winner maximises")
    n_jobs: int = Field(-1, ge=-1, le=1024, description="parallel fits (-1: every core)")
    dask_scheduler: str | None = Field(
        None, description='None: joblib processes; "local": a LocalCluster; or an address'
    )
    base: TrainingParameters = Field(description="the fixed data parameters and random_state")

    @field_validator("n_jobs")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("0 runs nothing; use 1 for one process or -1 for every core")
        return value

    @field_validator("scoring")
    @classmethod
    def _known_scoring(cls, value: str) -> str:
        if value not in SCORINGS:
            close = difflib.get_close_matches(value, SCORINGS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"unknown scorer {value!r}; {hint}choose from {list(SCORINGS)}")
        return value

    @field_validator("dask_scheduler")
    @classmethod
    def _scheduler(cls, value: str | None) -> str | None:
        if value is None or value == "local" or _ADDRESS.match(value):
            return value
        raise ValueError(
            f'{value!r} is neither None, "local" nor a scheduler address such as '
            '"tcp://10.0.0.5:8786"'
        )

    # construction ----------------------------------------------------------------------------

    @classmethod
    def build(cls, values: Mapping[str, Any]) -> SweepSpec:
        """The sweep described by ``values`` (the notebook's or the command line's names).

        Unknown names get the closest known one suggested; a grid name that is a data
        parameter is refused with where to set it instead; every grid value and every
        combination is validated as training parameters, naming the first that is not.
        """
        known = SPEC_NAMES
        for name in values:
            if name in GRID_FIELDS:
                raise ParameterError(
                    f"{name}: a model parameter is set in the grid, e.g. "
                    f"grid: {{{name}: [...]}} (a one-item list fixes it)"
                )
            if name not in known:
                _unknown(name, known, "sweep parameter")
        fixed = {name: values[name] for name in (*DATA_FIELDS, "random_state") if name in values}
        base = TrainingParameters.build(fixed)
        if "grid" not in values:
            raise ParameterError("grid: missing; give a mapping such as {alpha: [0.01, 0.1]}")
        grid = normalise_grid(values["grid"])
        settings = {name: values[name] for name in SWEEP_FIELDS if name in values}
        try:
            spec = cls.model_validate({**settings, "grid": grid, "base": base})
        except ValidationError as exc:
            raise ParameterError(describe(exc)) from None
        return spec._checked_candidates()

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]) -> SweepSpec:
        """The sweep named in a notebook's ``globals()`` (names it does not know are left)."""
        return cls.build({name: namespace[name] for name in SPEC_NAMES if name in namespace})

    def _checked_candidates(self) -> Self:
        size = len(ParameterGrid(self.grid))
        if size > MAX_CANDIDATES:
            raise ParameterError(
                f"grid: {size} candidates, more than {MAX_CANDIDATES}; use fewer values or "
                "search: random with n_iter"
            )
        for combination in ParameterGrid(self.grid):
            try:
                self.base.replace(**combination)
            except ParameterError as exc:
                message = f"grid: the candidate {combination} is invalid: {exc}"
                raise ParameterError(message) from None
        return self

    # what the search needs ---------------------------------------------------------------------

    @property
    def grid_size(self) -> int:
        """How many distinct candidates the grid holds."""
        return len(ParameterGrid(self.grid))

    @property
    def n_candidates(self) -> int:
        """How many candidates the search fits (each ``cv`` times)."""
        return self.grid_size if self.search == "grid" else min(self.n_iter, self.grid_size)

    @property
    def n_fits(self) -> int:
        """How many fits the cross-validation runs (the winner's refit is one more)."""
        return self.n_candidates * self.cv

    def varied(self) -> list[str]:
        """The parameters whose value differs between candidates (a name a sub-grid leaves
        out takes its default), in declaration order."""
        seen: dict[str, set[str]] = {}
        for combination in ParameterGrid(self.grid):
            for name in GRID_FIELDS:
                value = combination.get(name, getattr(DEFAULTS, name))
                seen.setdefault(name, set()).add(repr(value))
        return [name for name in GRID_FIELDS if len(seen[name]) > 1]

    def record(self) -> dict[str, Any]:
        """What a store manifest keeps of the sweep (with the scores, see the notebook)."""
        out: dict[str, Any] = {
            "grid": self.grid,
            "search": self.search,
            "cv": self.cv,
            "scoring": self.scoring,
            "candidates": self.n_candidates,
            "grid_size": self.grid_size,
        }
        if self.search == "random":
            out["n_iter"] = self.n_iter
        return out


def normalise_grid(grid: Any) -> Grid:
    """``grid`` as a list of {name: [validated values]}; a mapping is a list of one."""
    subgrids = [grid] if isinstance(grid, Mapping) else grid
    if not isinstance(subgrids, list) or not subgrids:
        raise ParameterError(
            "grid: expected a mapping such as {alpha: [0.01, 0.1]} or a list of such mappings, "
            f"got {grid!r}"
        )
    out: Grid = []
    for sub in subgrids:
        if not isinstance(sub, Mapping) or not sub:
            raise ParameterError(f"grid: every sub-grid must be a non-empty mapping, got {sub!r}")
        checked: dict[str, list[Any]] = {}
        for name, values in sub.items():
            if name in DATA_FIELDS or name == "random_state":
                raise ParameterError(
                    f"grid.{name}: {name} is fixed for the whole sweep; set it outside the grid "
                    f"(-p {name} VALUE, or in the notebook's parameters)"
                )
            if name not in GRID_FIELDS:
                _unknown(str(name), GRID_FIELDS, "grid parameter")
            if not isinstance(values, list) or not values:
                raise ParameterError(
                    f"grid.{name}: expected a non-empty list of values, got {values!r}; "
                    f"write [{values!r}] for a single value"
                )
            checked[name] = [_validated(name, value) for value in values]
        out.append(checked)
    return out


def _validated(name: str, value: Any) -> Any:
    """``value`` as the parameter object holds it (1 -> 1.0 for alpha), or a ParameterError."""
    try:
        return getattr(TrainingParameters.build({name: value}), name)
    except ParameterError as exc:
        raise ParameterError(f"grid.{exc}") from None


def _unknown(name: str, known: tuple[str, ...], what: str) -> None:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
    raise ParameterError(f"{name}: unknown {what}; {hint}")
