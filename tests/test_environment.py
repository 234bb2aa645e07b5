"""pyproject.toml is the source of truth; environment.yml must say the same."""

from __future__ import annotations

import re
import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from tests.conftest import ROOT

# conda-forge names of packages whose PyPI name differs
CONDA_NAMES = {
    "uvicorn[standard]": "uvicorn-standard",
    "prometheus-client": "prometheus_client",
    "dask[distributed]": "distributed",  # conda-forge's distributed brings dask-core with it
}


def pyproject_packages() -> dict[str, SpecifierSet]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for _extra, requirements in project["optional-dependencies"].items():
        lines += [r for r in requirements if not r.startswith("newsapi")]
    out = {}
    for line in lines:
        req = Requirement(line)
        name = req.name + (f"[{','.join(sorted(req.extras))}]" if req.extras else "")
        out[CONDA_NAMES.get(name, name).lower()] = req.specifier
    return out


def conda_packages() -> tuple[dict[str, SpecifierSet], list[str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out, pip = {}, []
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            pip += entry["pip"]
            continue
        name, spec = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)", entry).groups()  # type: ignore[union-attr]
        if name not in {"python", "pip"}:
            out[name.lower()] = SpecifierSet(spec)
    return out, pip


def test_environment_yml_matches_pyproject() -> None:
    conda, pip = conda_packages()
    wanted = pyproject_packages()
    assert sorted(conda) == sorted(wanted), "environment.yml and pyproject.toml list other packages"
    for name, spec in wanted.items():
        assert conda[name] == spec, f"{name}: environment.yml {conda[name]} vs pyproject {spec}"
    assert pip == ["-e ."], "environment.yml should install the project itself, editable"


def test_environment_yml_uses_conda_forge_and_python_311() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    assert "python>=3.11" in env["dependencies"]
