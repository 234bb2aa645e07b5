"""pyproject.toml is the source of truth; environment.yml must say the same, and
requirements.lock (``make lock``) must pin every dependency within those ranges."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import textwrap
import tomllib
from dataclasses import dataclass
from importlib import metadata

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from newsapi import NUMPY_FEATURES_OFF
from tests.support import ROOT

# conda-forge names of packages whose PyPI name differs
CONDA_NAMES = {
    "uvicorn[standard]": "uvicorn-standard",
    "prometheus-client": "prometheus_client",
    "playwright": "playwright-python",
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
    # packages conda-forge lacks come from PyPI, in the pip section, with the same versions
    assert pip[0] == "-e .", "environment.yml should install the project itself, editable"
    for line in pip[1:]:
        req = Requirement(line)
        name = req.name + (f"[{','.join(sorted(req.extras))}]" if req.extras else "")
        conda[name.lower()] = req.specifier
    wanted = pyproject_packages()
    assert sorted(conda) == sorted(wanted), "environment.yml and pyproject.toml list other packages"
    for name, spec in wanted.items():
        assert conda[name] == spec, f"{name}: environment.yml {conda[name]} vs pyproject {spec}"


def test_environment_yml_uses_conda_forge_and_python_311() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    assert "python>=3.11" in env["dependencies"]


# -- the lock -----------------------------------------------------------------------------------
LOCK = ROOT / "requirements.lock"


@dataclass(frozen=True)
class Pin:
    """One entry of requirements.lock: a version, for the environments its marker allows."""

    requirement: Requirement
    version: Version
    hashes: list[str]

    def applies_here(self) -> bool:
        return self.requirement.marker is None or self.requirement.marker.evaluate()


def locked() -> dict[str, list[Pin]]:
    """Canonical name -> its pins (several when the lock forks by Python version or OS)."""
    joined = LOCK.read_text().replace("\\\n", " ")
    pins: dict[str, list[Pin]] = {}
    for line in joined.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        spec, *hashes = (part.strip() for part in line.split("--hash="))
        requirement = Requirement(spec)
        (pinned,) = requirement.specifier
        assert pinned.operator == "==", f"{spec}: the lock pins exact versions"
        pin = Pin(requirement, Version(pinned.version), hashes)
        pins.setdefault(canonicalize_name(requirement.name), []).append(pin)
    return pins


def pyproject_requirements() -> list[Requirement]:
    """The project's dependencies and those of every extra (not the extras naming the project)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for requirements in project["optional-dependencies"].values():
        lines += requirements
    wanted = [Requirement(line) for line in lines]
    return [r for r in wanted if canonicalize_name(r.name) != canonicalize_name(project["name"])]


def test_every_dependency_is_locked_within_pyproject_and_environment_yml() -> None:
    pins = locked()
    conda, pip = conda_packages()
    for line in pip[1:]:  # what conda-forge lacks comes from PyPI with the same range
        from_pypi = Requirement(line)
        extras = f"[{','.join(sorted(from_pypi.extras))}]" if from_pypi.extras else ""
        conda[(from_pypi.name + extras).lower()] = from_pypi.specifier
    for requirement in pyproject_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements.lock: run `make lock`"
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        conda_name = CONDA_NAMES.get(requirement.name + extras, requirement.name + extras).lower()
        for pin in pins[name]:
            assert requirement.specifier.contains(pin.version, prereleases=True), (
                f"requirements.lock has {name}=={pin.version}, pyproject.toml asks for "
                f"{requirement.specifier}: run `make lock`"
            )
            assert conda[conda_name].contains(pin.version, prereleases=True), (
                f"requirements.lock has {name}=={pin.version}, environment.yml asks for "
                f"{conda[conda_name]}"
            )


def test_every_locked_package_is_pinned_with_its_hashes() -> None:
    pins = locked()
    assert len(pins) > len(pyproject_requirements())  # the dependencies' dependencies too
    for name, entries in pins.items():
        for pin in entries:
            assert pin.hashes, f"{name} has no hash: pip would refuse the lock"
            assert all(re.fullmatch("sha256:[0-9a-f]{64}", h) for h in pin.hashes), name


def test_this_environment_is_the_locked_one() -> None:
    """What `make install` built is what the lock says (so the notebooks reproduce)."""
    for name, entries in locked().items():
        for pin in entries:
            if pin.applies_here():
                installed = Version(metadata.version(name))
                assert installed == pin.version, (
                    f"{name} {installed} installed, {pin.version} locked"
                )


def test_numpy_avx512_kernels_are_off_wherever_models_are_trained() -> None:
    """The same parameters give the same model bytes on AVX-512 and AVX2 machines only when
    numpy does not use its AVX-512 kernels: a process that imports newsapi before numpy, and
    a child of it, run without them; make sets the same value for every other process."""
    code = textwrap.dedent("""
        import newsapi, numpy, subprocess, sys
        from numpy._core._multiarray_umath import __cpu_features__ as on, __cpu_dispatch__
        wide = ("X86_V4", "AVX512")
        print(sorted(k for k in __cpu_dispatch__ if on[k] and k.startswith(wide)))
        sys.stdout.flush()
        child = "import os; print(os.environ.get('NPY_DISABLE_CPU_FEATURES'))"
        subprocess.run([sys.executable, "-c", child])
    """)
    env = {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    active, inherited = done.stdout.splitlines()
    assert active == "[]"
    x86 = platform.machine().lower() in ("x86_64", "amd64")  # elsewhere: nothing to turn off
    assert inherited == (NUMPY_FEATURES_OFF if x86 else "None")
    makefile = (ROOT / "Makefile").read_text()
    assert f"export NPY_DISABLE_CPU_FEATURES ?= {NUMPY_FEATURES_OFF}\n" in makefile


def test_the_installed_libraries_carry_their_bytecode() -> None:
    # `make install` asks uv to compile the lock's packages: with PYTHONDONTWRITEBYTECODE set
    # (as on the project's machines) nothing else would, and every server, kernel and CLI
    # start would compile scikit-learn, SciPy and FastAPI from source again.
    import importlib.util

    import fastapi.routing
    import scipy.interpolate._fitpack_py
    import sklearn.utils.validation

    for module in (fastapi.routing, scipy.interpolate._fitpack_py, sklearn.utils.validation):
        assert module.__file__ is not None
        cached = importlib.util.cache_from_source(module.__file__)
        assert os.path.exists(cached), f"{module.__name__} has no bytecode: run `make install`"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"pip install [^\n]*\\\n[^\n]*--compile-bytecode -r \$\(LOCK\)", makefile)
