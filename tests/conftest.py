"""Shared fixtures: small corpora and models the tests write themselves, the real model built
from the 20 newsgroups corpus, apps built through their real lifespan, and real servers."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from newsapi.http.app import create_app
from newsapi.model.artifact import Artifact, save_artifact
from newsapi.model.data import Corpus, load_corpus
from newsapi.model.params import DEFAULTS, TrainingParameters
from newsapi.settings import MODEL_FILENAME, Settings
from newsapi.training.pipeline import build_pipeline, fit

ROOT = Path(__file__).resolve().parent.parent

# Three made-up topics, and sentences built from them: enough for a model that is right on
# clear cases, with no byte of the real corpus.
TOPICS = {
    "space": "rocket orbit launch nasa astronaut moon mars shuttle satellite telescope planet",
    "cooking": "recipe oven flour butter garlic onion bake simmer pasta sauce kitchen",
    "sport": "football goal match referee league striker tennis coach stadium season team",
}
FILLER = [
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "is",
    "it",
    "that",
    "for",
    "on",
    "with",
    "this",
    "was",
    "we",
]


def topic_sentences(per_topic: int = 30, seed: int = 0) -> list[tuple[str, str]]:
    """(text, label) pairs: each text mixes words of its topic with common filler words."""
    rng = random.Random(seed)
    rows = []
    for label, words in TOPICS.items():
        vocab = words.split()
        for _ in range(per_topic):
            picked = rng.sample(vocab, 4) + rng.sample(FILLER, 4)
            rng.shuffle(picked)
            rows.append((" ".join(picked), label))
    return rows


def tiny_corpus() -> Corpus:
    rows = topic_sentences()
    names = sorted(TOPICS)
    train = rows[::2]
    test = rows[1::2]
    return Corpus(
        train_texts=[t for t, _ in train],
        train_labels=[names.index(label) for _, label in train],
        test_texts=[t for t, _ in test],
        test_labels=[names.index(label) for _, label in test],
        target_names=names,
        description={"source": "tests", "categories": names},
    )


def train_tiny(model_path: Path, classifier: str = "multinomial_nb", **params: Any) -> Artifact:
    """Fit a small model on :func:`tiny_corpus` and save it as a real artifact."""
    corpus = tiny_corpus()
    parameters = TrainingParameters.build({"classifier": classifier, **params})
    pipeline, metrics = fit(parameters, corpus)
    return save_artifact(
        pipeline,
        corpus.target_names,
        model_path,
        parameters=parameters.model_dump(),
        metrics=metrics,
        dataset=corpus.description,
    )


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Artifact:
    """A small multinomial naive Bayes artifact, trained once per session."""
    return train_tiny(tmp_path_factory.mktemp("tiny") / MODEL_FILENAME)


@pytest.fixture
def model_copy(tiny_model: Artifact, tmp_path: Path) -> Path:
    """A private copy of the tiny artifact (model and manifest) that a test may damage."""
    target = tmp_path / "model" / MODEL_FILENAME
    target.parent.mkdir()
    target.write_bytes(tiny_model.path.read_bytes())
    target.with_suffix(".json").write_bytes(tiny_model.path.with_suffix(".json").read_bytes())
    return target


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a model path, with a private cache folder and any overrides."""

    def make(model_path: Path, **overrides: Any) -> Settings:
        values: dict[str, Any] = {"model_path": model_path, "cache_dir": tmp_path / "cache"}
        values.update(overrides)
        return Settings.of(**values)

    return make


@pytest.fixture
def client_for(settings_for: Callable[..., Settings]) -> Iterator[Callable[..., TestClient]]:
    """Start an app (through its real lifespan) on a model; closed at the end of the test."""
    opened: list[TestClient] = []

    def make(model_path: Path, **overrides: Any) -> TestClient:
        client = TestClient(create_app(settings_for(model_path, **overrides)))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def client(client_for: Callable[..., TestClient], tiny_model: Artifact) -> TestClient:
    return client_for(tiny_model.path)


# -- the real model -----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def newsgroups() -> Corpus:
    """The four-category 20 newsgroups corpus of the book (needs NEWSAPI_DATA_HOME or
    SCIKIT_LEARN_DATA pointing at scikit-learn's cache, or internet)."""
    return load_corpus()


@pytest.fixture(scope="session")
def real_model(newsgroups: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Artifact:
    """The book's model, trained by the package exactly as the training notebook does."""
    pipeline, metrics = fit(DEFAULTS, newsgroups)
    return save_artifact(
        pipeline,
        newsgroups.target_names,
        tmp_path_factory.mktemp("real") / MODEL_FILENAME,
        parameters=DEFAULTS.model_dump(),
        metrics=metrics,
        dataset=newsgroups.description,
    )


# -- real servers -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


CLEAN_EXIT = {0, -signal.SIGTERM}


@dataclass
class Server:
    """A uvicorn process on a free local port."""

    process: subprocess.Popen[str]
    url: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, wait; returns the exit code (kills and fails after ``timeout``).

        After a graceful shutdown uvicorn re-raises the signal, so a clean stop is 0 or
        -SIGTERM (see :data:`CLEAN_EXIT`)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(f"server did not stop within {timeout}s:\n{self.log()[-3000:]}")
        return self.process.returncode


def launch(
    tmp_path: Path, env: dict[str, str], workers: int = 1, extra_path: str | None = None
) -> Server:
    """Start ``uvicorn newsapi.app:app`` without waiting for it."""
    port = free_port()
    full_env = {**os.environ, **env}
    if extra_path:
        full_env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [extra_path, full_env.get("PYTHONPATH")])
        )
    log_path = tmp_path / f"server-{port}.log"
    handle = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "newsapi.app:app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--no-access-log",
         "--timeout-worker-healthcheck", "60",
         "--http", "newsapi.http.connections:HeaderTimeoutProtocol"],
        cwd=ROOT, env=full_env, stdout=handle, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    return Server(process, f"http://127.0.0.1:{port}", log_path, env)


def wait_ready(server: Server, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"server exited with {server.process.returncode}:\n{server.log()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    server.stop()
    pytest.fail(f"server not ready within {timeout}s:\n{server.log()[-3000:]}")


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start real uvicorn servers (ready when returned); all stopped at the end of the test."""
    started: list[Server] = []

    def start(model_path: Path, workers: int = 1, **env: str) -> Server:
        values = {
            "NEWSAPI_MODEL_PATH": str(model_path),
            "NEWSAPI_CACHE_DIR": str(tmp_path / "cache"),
            **env,
        }
        server = launch(tmp_path, values, workers, extra_path=str(ROOT))
        started.append(server)
        wait_ready(server)
        return server

    yield start
    for server in started:
        server.stop()


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` with these labels (any value of the others) in a
    Prometheus exposition; 0 when there is none."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += float(sample.value)
    return total


def wait_for(condition: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` (a bound, not a measurement)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout}s")
        time.sleep(0.02)


def train_slow(model_path: Path) -> Artifact:
    """The tiny model behind a step that holds texts containing "slow" (see tests.helpers)."""
    from tests.helpers import hold_slow_texts

    return train_behind(model_path, hold_slow_texts)


def train_behind(model_path: Path, first_step: Callable[..., Any]) -> Artifact:
    """The tiny model behind ``first_step`` (a function of tests.helpers, applied to texts)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    corpus = tiny_corpus()
    steps = [step for _, step in build_pipeline().steps]
    pipeline = make_pipeline(FunctionTransformer(first_step), *steps)
    pipeline.fit(corpus.train_texts, corpus.train_labels)
    return save_artifact(pipeline, corpus.target_names, model_path)


def folder_bytes(folder: Path) -> int:
    """Bytes of the files under ``folder``, tolerating files removed while it counts."""
    total = 0
    for directory, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += Path(directory, name).stat().st_size
    return total
