"""The training parameters as the command line reads and shows them: ``-y``/``-p`` values read
as YAML (:func:`read_values`), and each parameter's type, default, range and meaning read off
:class:`~newsapi.model.params.TrainingParameters` (:func:`parameter_help`, what
``newsapi train --help`` lists).
"""

from __future__ import annotations

from collections.abc import Iterable
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from newsapi.model.params import ParameterError, TrainingParameters


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
