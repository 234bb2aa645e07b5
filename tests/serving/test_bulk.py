"""The bulk process: large /predictions calls that find the model thread busy are computed in
a real child process holding the served model, with the same answers, and those that find it
idle in the thread; a killed child costs no answer, a reload replaces it, and it stops with the
classifier (tests/system/test_bulk_workers.py kills its uvicorn worker)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from newsapi.model.artifact import Artifact
from newsapi.serving import bulk
from newsapi.serving.metrics import Metrics
from newsapi.serving.results import Predictions
from newsapi.serving.service import Classifier
from newsapi.settings import MODEL_FILENAME, Settings
from tests.support import (
    exited,
    metric,
    mixed_sentences,
    predicted_names,
    process_state,
    train_tiny,
    wait_for,
)

SINGLE = "the rocket reached orbit around the moon"


def counted(classifier: Classifier, where: str) -> float:
    text = classifier.metrics.exposition()[0].decode()
    return metric(text, "newsapi_predictions_total", endpoint=where)


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Classifier]:
    """A started classifier, stopped (its bulk process with it) on the way out."""
    classifier = Classifier(settings, Metrics())
    await classifier.start()
    try:
        yield classifier
    finally:
        await classifier.stop()


async def first_child(classifier: Classifier) -> int:
    """A large call (answered by the model thread), then the pid of the child it started."""
    await classifier.predict_many(mixed_sentences(100, 1))
    return await started(classifier)


async def beside_a_busy_lane(classifier: Classifier, texts: list[str], seed: int) -> Predictions:
    """The answer for ``texts``, asked while another large call (100 texts of ``seed``) holds
    the model thread: that one takes the idle lane before ``texts`` are even looked up."""
    _, answer = await asyncio.gather(
        classifier.predict_many(mixed_sentences(100, seed)), classifier.predict_many(texts)
    )
    return answer


async def started(classifier: Classifier, timeout: float = 60.0) -> int:
    """The pid of the bulk process once it holds the served model."""
    version = classifier.current().model_version
    for _ in range(int(timeout / 0.05)):
        if classifier.bulk.version == version and classifier.bulk.pid is not None:
            return classifier.bulk.pid
        await asyncio.sleep(0.05)
    pytest.fail(f"no bulk process for {version} within {timeout}s")


async def gone(pid: int, timeout: float = 15.0) -> bool:
    for _ in range(int(timeout / 0.05)):
        if exited(pid):
            return True
        await asyncio.sleep(0.05)
    return False


def test_large_calls_go_to_the_bulk_process_only_while_the_model_thread_is_busy(
    real_model: Artifact, tmp_path: Path
) -> None:
    settings = Settings.of(model_path=real_model.path, cache_dir=tmp_path / "cache")
    small, first, second = mixed_sentences(10, 1), mixed_sentences(200, 2), mixed_sentences(300, 3)

    async def main() -> None:
        async with running(settings) as classifier:
            # a small call never starts the child
            assert (await classifier.predict_many(small)).categories == predicted_names(
                real_model, small
            )
            assert not classifier.bulk.starting
            assert classifier.bulk.pid is None
            # the first large call starts it and is answered by the model thread meanwhile
            assert (await classifier.predict_many(first)).categories == predicted_names(
                real_model, first
            )
            assert counted(classifier, "model") == 210
            pid = await started(classifier)
            assert pid != os.getpid()
            found = process_state(pid)
            assert found is not None
            assert found[1] == os.getpid()  # a child of this process, alive
            # it yields the cores to the worker's own threads
            mine = os.getpriority(os.PRIO_PROCESS, 0)
            assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, mine + bulk.NICE)
            # with the child ready, a large call that finds the model thread idle is still
            # computed there: no hand-off
            idle = mixed_sentences(150, 4)
            assert (await classifier.predict_many(idle)).categories == predicted_names(
                real_model, idle
            )
            assert counted(classifier, "model") == 360
            assert counted(classifier, "bulk_process") == 0
            # one that finds it busy goes to the child: the same answers
            answer = await beside_a_busy_lane(classifier, second, 5)
            assert answer.categories == predicted_names(real_model, second)
            assert answer.model_version == real_model.model_version
            assert counted(classifier, "bulk_process") == 300
            assert counted(classifier, "model") == 460  # the other call, in the thread
            # single texts stay in this process (alone and short: on the event loop)
            single = await classifier.predict(SINGLE)
            assert single.category == predicted_names(real_model, [SINGLE])[0]
            assert counted(classifier, "inline") == 1
            assert counted(classifier, "bulk_process") == 300
        assert await gone(pid), "the bulk process outlived the classifier's stop()"

    asyncio.run(main())


def test_a_killed_bulk_process_costs_no_answer_and_is_started_again(
    tiny_model: Artifact,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulk, "RETRY_AFTER", 1.0)
    settings = Settings.of(model_path=tiny_model.path, cache_dir=tmp_path / "cache")

    async def main() -> tuple[int, int]:
        async with running(settings) as classifier:
            first = await first_child(classifier)
            os.kill(first, signal.SIGKILL)
            assert await gone(first)
            texts = mixed_sentences(100, 2)
            before = counted(classifier, "model")
            answer = await beside_a_busy_lane(classifier, texts, 20)
            assert answer.categories == predicted_names(tiny_model, texts)
            # the thread did the work, of this call and of the one beside it
            assert counted(classifier, "model") - before == 200
            assert classifier.bulk.pid is None
            # within RETRY_AFTER no new child; after it, the next large call starts one
            await classifier.predict_many(mixed_sentences(100, 3))
            assert not classifier.bulk.starting
            assert classifier.bulk.pid is None
            await asyncio.sleep(1.1)
            await classifier.predict_many(mixed_sentences(100, 4))
            second = await started(classifier)
            texts = mixed_sentences(100, 5)
            answer = await beside_a_busy_lane(classifier, texts, 50)
            assert answer.categories == predicted_names(tiny_model, texts)
            assert counted(classifier, "bulk_process") == 100
        return first, second

    with caplog.at_level(logging.INFO, logger="newsapi.serving.bulk"):
        first, second = asyncio.run(main())
    assert second != first
    stopped = [r for r in caplog.records if "stopped" in r.getMessage()]
    assert len(stopped) == 1
    assert stopped[0].levelno == logging.WARNING
    assert f"the bulk process {first} stopped (BrokenProcessPool)" in stopped[0].getMessage()
    assert "Traceback" not in caplog.text


def test_after_a_reload_large_calls_go_to_a_child_holding_the_new_model(
    tmp_path: Path,
) -> None:
    served = tmp_path / "served" / MODEL_FILENAME
    old = train_tiny(served)
    new = train_tiny(tmp_path / "new" / MODEL_FILENAME, classifier="complement_nb")
    assert new.model_version != old.model_version
    settings = Settings.of(model_path=served, cache_dir=tmp_path / "cache")

    async def main() -> tuple[int, int]:
        async with running(settings) as classifier:
            first = await first_child(classifier)
            train_tiny(served, classifier="complement_nb")  # the new model, in place
            _, now = await classifier.reload()
            assert now.model_version == new.model_version
            assert await gone(first), "the old model's child outlived the reload"
            texts = mixed_sentences(100, 2)
            answer = await classifier.predict_many(texts)  # the thread, while the child starts
            assert answer.model_version == new.model_version
            assert answer.categories == predicted_names(new, texts)
            second = await started(classifier)
            texts = mixed_sentences(100, 3)
            answer = await beside_a_busy_lane(classifier, texts, 30)
            assert answer.model_version == new.model_version
            assert answer.categories == predicted_names(new, texts)
            assert counted(classifier, "bulk_process") == 100  # only the last call
        return first, second

    first, second = asyncio.run(main())
    assert first != second


def test_turned_off_no_child_is_ever_started(tiny_model: Artifact, tmp_path: Path) -> None:
    settings = Settings.of(
        model_path=tiny_model.path, cache_dir=tmp_path / "cache", bulk_process=False
    )

    async def main() -> None:
        async with running(settings) as classifier:
            for seed in range(3):
                texts = mixed_sentences(200, seed)
                assert (await classifier.predict_many(texts)).categories == predicted_names(
                    tiny_model, texts
                )
                assert not classifier.bulk.starting
            assert classifier.bulk.pid is None
            assert counted(classifier, "bulk_process") == 0
            assert counted(classifier, "model") == 600

    asyncio.run(main())


def test_a_stop_while_the_child_starts_leaves_no_process(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    settings = Settings.of(model_path=tiny_model.path, cache_dir=tmp_path / "cache")
    before = {p.pid for p in multiprocessing.active_children()}

    async def main() -> None:
        classifier = Classifier(settings, Metrics())
        await classifier.start()
        await classifier.predict_many(mixed_sentences(100, 1))
        assert classifier.bulk.starting
        await classifier.stop()  # at once: the child is still importing
        assert classifier.bulk.ready_for("any", None) is None  # stopped: starts nothing
        assert not classifier.bulk.starting

    asyncio.run(main())

    def no_new_children() -> bool:
        return not {p.pid for p in multiprocessing.active_children()} - before

    wait_for(no_new_children, timeout=30, what="the starting child's exit")
