"""The settings: groups by concern, the same ``NEWSAPI_*`` names, a documented reference."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from newsapi.settings import FIELD_GROUP, GROUPS, Settings
from newsapi.settings_reference import documented_variables

ROOT = Path(__file__).resolve().parent.parent


def other_value(group: str, name: str) -> tuple[str, Any]:
    """A valid value unlike the field's default, as the environment writes it and as the
    field then holds it."""
    field = GROUPS[group].model_fields[name]
    default = field.default
    if name == "allowed_hosts":
        return "a.example, b.example", ["a.example", "b.example"]
    if name == "model_name":
        return "other-model", "other-model"
    if name == "host":
        return "0.0.0.0", "0.0.0.0"  # noqa: S104  (a value, not a bind)
    if isinstance(default, bool):
        return str(not default).lower(), not default
    if isinstance(default, int):
        new = 2 if default == 1 else default - 1
        return str(new), new
    if isinstance(default, float):
        half = default / 2
        return str(half), half
    return "/tmp/elsewhere", Path("/tmp/elsewhere")  # paths, the token, optional folders


def test_every_documented_variable_takes_effect(monkeypatch: pytest.MonkeyPatch) -> None:
    variables = documented_variables()
    assert len(variables) == len(FIELD_GROUP)
    for variable in variables:
        field = variable.name.removeprefix("NEWSAPI_").lower()
        text, expected = other_value(variable.group, field)
        monkeypatch.setenv(variable.name, text)
        value = getattr(getattr(Settings(), variable.group), field)
        if isinstance(value, SecretStr):
            value = Path(value.get_secret_value())
        assert value == expected, variable.name
        monkeypatch.delenv(variable.name)


def test_every_field_has_a_description() -> None:
    missing = [
        f"{group}.{name}"
        for group, model in GROUPS.items()
        for name, field in model.model_fields.items()
        if not (field.description or "").strip()
    ]
    assert missing == []


def test_flat_names_go_to_their_group_and_the_rest_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSAPI_MEMORY_CACHE_SIZE", "7")
    settings = Settings.of(cache_dir=Path("x"), max_text_length=5)
    assert settings.cache.cache_dir == Path("x")
    assert settings.cache.memory_cache_size == 7
    assert settings.limits.max_text_length == 5


def test_a_misspelled_name_is_refused() -> None:
    with pytest.raises(ValidationError, match="cache_dirr"):
        Settings.of(cache_dirr=Path("x"))


def test_a_bad_value_in_the_environment_names_the_variable_on_the_command_line(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "NEWSAPI_PORT": "eighty"}
    done = subprocess.run(
        [sys.executable, "-c", "from newsapi.cli import main; main()", "runs"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "newsapi: NEWSAPI_PORT: Input should be a valid integer, unable to parse string as an "
        "integer"
    ]


def test_the_data_home_variable_is_the_one_the_corpus_loader_reads() -> None:
    source = (ROOT / "newsapi" / "model" / "data.py").read_text()
    names = [v.name for v in documented_variables() if v.group == "training"]
    assert "NEWSAPI_DATA_HOME" in names
    assert '"NEWSAPI_DATA_HOME"' in source
