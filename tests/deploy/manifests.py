"""The deployment files as the tests read them: overlays rendered by ``kubectl kustomize``, the
Containerfile's writable folders and environment, the probes' paths among the app's routes."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.files import ROOT

KUBERNETES = ROOT / "deploy" / "kubernetes"
KSERVE = ROOT / "deploy" / "kserve"
CONTAINERFILE = ROOT / "Containerfile"
#: every folder kubectl can render: the base and each overlay
KUSTOMIZATIONS = sorted(
    path.parent.relative_to(KUBERNETES).as_posix()
    for path in KUBERNETES.glob("**/kustomization.yaml")
)

Obj = dict[str, Any]


def kubectl() -> str:
    """The kubectl on PATH, else the one `make kubectl` put beside this Python."""
    found = shutil.which("kubectl") or shutil.which(
        "kubectl", path=str(Path(sys.executable).parent)
    )
    if found is None:
        pytest.fail("no kubectl on PATH nor in the environment: run `make kubectl`")
    return found


@cache
def rendered(folder: str) -> tuple[Obj, ...]:
    """The objects ``kubectl kustomize deploy/kubernetes/<folder>`` writes."""
    done = subprocess.run(
        [kubectl(), "kustomize", str(KUBERNETES / folder)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return tuple(obj for obj in yaml.safe_load_all(done.stdout) if obj)


def one(objects: tuple[Obj, ...], kind: str) -> Obj:
    (found,) = [obj for obj in objects if obj["kind"] == kind]
    return found


def inference_service() -> Obj:
    loaded: Obj = yaml.safe_load((KSERVE / "inferenceservice.yaml").read_text())
    return loaded


def image_volumes() -> list[str]:
    """The folders the Containerfile's VOLUME line names: those the server writes."""
    (line,) = re.findall(r"^VOLUME (\[.*\])$", CONTAINERFILE.read_text(), re.MULTILINE)
    volumes: list[str] = yaml.safe_load(line)
    return volumes


def image_env() -> dict[str, str]:
    """The runtime stage's ENV settings (``NAME=value`` pairs, continued lines joined)."""
    text = CONTAINERFILE.read_text().replace("\\\n", " ")
    runtime = text.rsplit("\nFROM ", 1)[1]
    env: dict[str, str] = {}
    for line in re.findall(r"^ENV (.*)$", runtime, re.MULTILINE):
        env.update(pair.split("=", 1) for pair in line.split())
    return env


def sleep_seconds(command: list[str]) -> float:
    """The pause a preStop command makes (``python -c "import time; time.sleep(N)"``)."""
    (seconds,) = re.findall(r"time\.sleep\(([\d.]+)\)", " ".join(command))
    return float(seconds)


@cache
def app_paths() -> frozenset[str]:
    """The paths newsapi's app answers, from its OpenAPI document."""
    from newsapi.http.app import create_app

    return frozenset(create_app().openapi()["paths"])


def under(path: str, folders: list[str]) -> bool:
    return any(path == folder or path.startswith(folder.rstrip("/") + "/") for folder in folders)
