"""All configuration, read from the environment: one group per concern, ``NEWSAPI_<FIELD>``.

Every field of every group is set by the environment variable ``NEWSAPI_`` followed by the
field's name in capitals (``cache.cache_dir`` is ``NEWSAPI_CACHE_DIR``): the groups order the
settings for a reader, they do not change a variable's name. The documentation's
configuration reference is generated from these fields
(:func:`newsapi.settings_reference.documented_variables`).

One variable is read elsewhere, on purpose: ``NEWSAPI_DATA_HOME`` is read by
:func:`newsapi.model.data.corpus_home`, because notebook kernels and Dask workers load the
corpus with nothing of the project's configuration but that module (its field here documents
it, and the command line passes it on).
"""

from __future__ import annotations

import typing
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from newsapi.settings.groups import (
    DEFAULT_ARTIFACT_DIR,
    ENV_PREFIX,
    MODEL_FILENAME,
    AdminSettings,
    BatchingSettings,
    CacheSettings,
    LimitSettings,
    ModelSettings,
    PredictionLogSettings,
    ServerSettings,
    TrainingSettings,
    V2Settings,
    _Group,
)

__all__ = [
    "DEFAULT_ARTIFACT_DIR", "ENV_PREFIX", "FIELD_GROUP", "GROUPS", "MODEL_FILENAME",
    "AdminSettings", "BatchingSettings", "CacheSettings", "LimitSettings", "ModelSettings",
    "PredictionLogSettings", "ServerSettings", "Settings", "TrainingSettings", "V2Settings",
    "get_settings",
]  # fmt: skip


class Settings(BaseModel):
    """Every setting, grouped by concern; ``Settings()`` reads the environment.

    A test or a script may also pass fields by their flat names (:meth:`of`):
    each goes to its group, whose other fields still come from the environment.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: ModelSettings = Field(default_factory=ModelSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    batching: BatchingSettings = Field(default_factory=BatchingSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    admin: AdminSettings = Field(default_factory=AdminSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    v2: V2Settings = Field(default_factory=V2Settings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    prediction_log: PredictionLogSettings = Field(default_factory=PredictionLogSettings)

    @classmethod
    def of(cls, **values: Any) -> Settings:
        """Settings with some fields given by their flat names (``Settings.of(cache_dir=p)``),
        the rest from the environment."""
        return cls.model_validate(values)

    @model_validator(mode="before")
    @classmethod
    def _route_flat_names(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        grouped: dict[str, Any] = {}
        flat: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            if key in GROUPS:
                grouped[key] = value
            elif key in FIELD_GROUP:
                flat.setdefault(FIELD_GROUP[key], {})[key] = value
            else:
                grouped[key] = value  # extra="forbid" names it
        for group, fields in flat.items():
            if group in grouped:
                raise ValueError(f"set {sorted(fields)} inside {group}=, or all by flat names")
            grouped[group] = GROUPS[group](**fields)
        return grouped


GROUPS: dict[str, type[_Group]] = {
    name: typing.cast(type[_Group], field.default_factory)
    for name, field in Settings.model_fields.items()
}
FIELD_GROUP: dict[str, str] = {
    field: group for group, model in GROUPS.items() for field in model.model_fields
}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
