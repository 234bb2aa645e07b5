"""The served model's life: the state the classifier service holds, loading the model,
starting and stopping the threads and processes around it, and swapping a new model in.

:class:`ServedModel` is the lifecycle half of :class:`~newsapi.serving.service.Classifier`,
which adds the predictions (:mod:`.classifier`). The model is swapped atomically on reload:
the artifact and its predictor are installed together, with no await in between.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING

from newsapi.errors import NewsapiError
from newsapi.model.artifact import Artifact
from newsapi.serving.activity import Activity
from newsapi.serving.batching import ModelLane
from newsapi.serving.bulk import BulkProcess
from newsapi.serving.cache import PredictionCache
from newsapi.serving.compute import load_model
from newsapi.serving.metrics import Metrics
from newsapi.serving.predictor import Inference, Predictor
from newsapi.serving.predlog import PredictionLog
from newsapi.serving.results import ModelNotReadyError, Served
from newsapi.serving.startup import freeze_startup_objects
from newsapi.settings import Settings
from newsapi.store.served import stored_entry

if TYPE_CHECKING:
    from newsapi.serving.tracing.spans import Tracing

# the service's logger, as before the package was split: operators' filters keep working
log = logging.getLogger("newsapi.serving.service")


class ServedModel:
    """The served model and what serves it: its cache, model thread, bulk process and
    prediction log; loaded, started, stopped and reloaded here."""

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        activity: Activity | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.settings = settings
        #: the spans of model calls and the requests' cache outcomes, when traces are on
        self.tracing = tracing
        self.metrics = metrics
        # requests in flight, counted by the app's request layer: the disk writer waits for
        # none (without an app, nobody counts and the writer never waits)
        self.activity = activity or Activity()
        self.artifact: Artifact | None = None
        #: computes the served model's answers; swapped with ``artifact``, in the same step
        self.predictor: Predictor | None = None
        self._served: Served | None = None  # the two as one tuple, carried by each answer
        #: why the served model is not simply the promoted pair (set at start), else None
        self.fallback: str | None = None
        self.cache = PredictionCache(settings.cache, metrics)
        # One model thread: batches run one after the other, and the event loop hops once per
        # batch. (scikit-learn's transform holds the GIL for most of its work anyway.)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self._lane = ModelLane(
            self._executor, chunk_chars=settings.batching.bulk_chunk_chars, tracing=tracing
        )
        self.bulk = BulkProcess(
            chunk_chars=settings.batching.bulk_chunk_chars * ModelLane.IDLE_CHUNKS
        )
        self._reload_lock = asyncio.Lock()
        #: the worker's prediction log writer (NEWSAPI_PREDICTION_LOG_DIR), else None: the
        #: request layer hands it every answered text (:mod:`.predlog`)
        self.prediction_log: PredictionLog | None = None
        if settings.prediction_log.prediction_log_dir is not None:
            self.prediction_log = PredictionLog(settings.prediction_log, metrics)

    def load(self, *, from_store: bool = False) -> tuple[Artifact, Predictor]:
        """Read, verify and warm up the configured artifact (blocking); raises ArtifactError.
        Returns it with its predictor (the lean path when it compiles, :mod:`.predictor`).

        The first ``predict`` builds lazy state, and it proves that the pipeline can predict
        at all: a model that cannot is refused like a tampered one, before it serves. With
        ``from_store`` (at start), a promoted pair beside a model store is repaired after a
        crash, or replaced by the store's last good promoted model when unusable
        (:func:`newsapi.store.served.load_served`); a reload refuses a bad file instead.
        """
        artifact, predictor, fallback = load_model(self.settings, from_store=from_store)
        if from_store:
            self.fallback = fallback
        return artifact, predictor

    async def start(self) -> None:
        """Start the prediction log (first: without pyarrow it refuses at once, before the
        model loads), load the model, set the process's garbage-collector policy, start the
        disk writer."""
        if self.prediction_log is not None:
            self.prediction_log.start()  # PredictionLogError: the server does not start
        loop = asyncio.get_running_loop()
        self._install(
            *await loop.run_in_executor(self._executor, partial(self.load, from_store=True))
        )
        self.metrics.model_fallback.set(1 if self.fallback else 0)
        self.bulk.watch_shutdown()  # no bulk child starts in uvicorn's graceful wait
        freeze_startup_objects()
        # The model thread computes in Python (tokenising) for milliseconds at a time; the
        # event loop, which gives up the GIL at every system call, then waits up to the
        # switch interval to get it back at each turn. Python's 5 ms made single texts crawl
        # beside large batches; a much shorter one costs throughput in forced switches
        # (the default is explained in the docs' "How a request is served").
        sys.setswitchinterval(self.settings.batching.gil_switch_interval_ms / 1000)

        def forget_memory() -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(self.cache.memory.clear)

        quiet = self.settings.cache.cache_write_quiet_ms / 1000
        self.cache.start(
            on_foreign_clear=forget_memory,
            quiet=self.activity.quiet_for if quiet else None,
            quiet_seconds=quiet,
        )

    async def stop(self) -> None:
        await self.bulk.stop()
        await asyncio.to_thread(self.cache.stop)
        await asyncio.to_thread(self._executor.shutdown, wait=True)
        if self.prediction_log is not None:  # last: every answer given has been handed to it
            await asyncio.to_thread(self.prediction_log.stop)

    def _install(self, artifact: Artifact, predictor: Predictor) -> None:
        """Swap ``artifact`` in: on the event loop, with no await in between, so each batch
        sees one model and its predictor or the other's."""
        self.artifact, self.predictor = artifact, predictor
        self._served = (artifact, predictor)
        self.bulk.retire()  # the old model's child, if any
        self.cache.memory.use(artifact.model_version)
        self.metrics.set_model(artifact.model_version)
        log.info(
            "serving model %s (%d categories) from %s",
            artifact.model_version,
            len(artifact.target_names),
            artifact.path,
        )
        self.metrics.inference_fallback.set(1 if predictor.fallback else 0)
        if predictor.fallback:
            log.warning(
                "model %s is computed by scikit-learn, not the lean path: %s",
                artifact.model_version,
                predictor.fallback,
            )
        else:
            log.info("model %s is computed by the lean path", artifact.model_version)

    async def reload(self) -> tuple[str, Artifact]:
        """Load the artifact from disk again and swap it in; the old model keeps serving
        if the new one is refused (the ArtifactError propagates)."""
        async with self._reload_lock:
            previous = self.current().model_version
            try:
                artifact, predictor = await asyncio.to_thread(self.load)
            except NewsapiError:
                self.metrics.reloads.labels("refused").inc()
                raise
            if artifact.model_version != previous:
                self._install(artifact, predictor)
                del artifact, predictor  # the old model is freed with its last batch
            self.fallback = None  # the promoted pair loaded: it is what serves now
            self.metrics.model_fallback.set(0)
            self.metrics.reloads.labels("ok").inc()
            return previous, self.current()

    def store_entry(self) -> str | None:
        """``models/<version>`` when the served model is an entry of the store beside it."""
        return stored_entry(self.settings.model.model_path, self.current().model_version)

    def current(self) -> Artifact:
        if self.artifact is None:
            raise ModelNotReadyError("the model is not loaded yet")
        return self.artifact

    def served(self) -> Served:
        """The served model and its predictor, taken together (see :meth:`_install`)."""
        if self._served is None:
            raise ModelNotReadyError("the model is not loaded yet")
        return self._served

    def inference(self) -> tuple[Inference, str | None]:
        """How the served model is computed (``lean`` or ``scikit-learn``), and why
        scikit-learn when it is."""
        predictor = self.served()[1]
        return predictor.inference, predictor.fallback
