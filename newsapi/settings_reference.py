"""The configuration reference, generated from the settings' fields and their descriptions:
what the documentation's configuration page shows (``docs/hooks``), never written by hand."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import SecretStr

from newsapi.settings import ENV_PREFIX, GROUPS


@dataclass(frozen=True, slots=True)
class Variable:
    """One environment variable of the configuration, as the documentation shows it."""

    name: str
    group: str
    type: str
    default: str
    description: str
    constraints: str


def documented_variables() -> list[Variable]:
    """Every ``NEWSAPI_*`` variable of :class:`Settings`, in group and field order."""
    variables = []
    for group, model in GROUPS.items():
        for name, field in model.model_fields.items():
            if not field.description:
                raise ValueError(f"setting {group}.{name} has no description")
            variables.append(
                Variable(
                    name=ENV_PREFIX + name.upper(),
                    group=group,
                    type=_type_name(field.annotation),
                    default=_default_text(field.default),
                    description=field.description,
                    constraints=_constraints(field.metadata),
                )
            )
    return variables


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        parts = [_type_name(a) for a in typing.get_args(annotation) if a is not type(None)]
        return " or ".join(parts) + " (optional)"
    if origin is list:
        return f"comma-separated list of {_type_name(typing.get_args(annotation)[0])}"
    names = {Path: "path", SecretStr: "secret", bool: "bool", int: "int", float: "float"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default_text(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and value >= 2**20 and value % 2**20 == 0:
        return f"{value} ({value // 2**20} MiB)"
    return str(value)


def _constraints(metadata: list[Any]) -> str:
    words = []
    for item in metadata:
        for kind, sign, attr in (
            (Gt, ">", "gt"),
            (Ge, ">=", "ge"),
            (Lt, "<", "lt"),
            (Le, "<=", "le"),
        ):
            if isinstance(item, kind):
                words.append(f"{sign} {getattr(item, attr)}")
        pattern = getattr(item, "pattern", None)
        if pattern:
            words.append(f"matches {pattern}")
    return ", ".join(words)
