"""The classifier service's predictions: the memory tier on the event loop, else the lean
path right there for a short text alone, else the micro-batcher, whose small batches of short
texts the event loop computes too and the others the model thread, or the model in chunks (or
the bulk process) for large calls."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from newsapi.model.artifact import Artifact
from newsapi.serving.activity import Activity
from newsapi.serving.batching import MicroBatcher
from newsapi.serving.cache import entry_key, entry_keys
from newsapi.serving.compute import classify_items
from newsapi.serving.explain import Explanation
from newsapi.serving.explaining import Explainer
from newsapi.serving.metrics import Metrics
from newsapi.serving.predictor import Predictor
from newsapi.serving.results import (
    Computed,
    Pending,
    Prediction,
    Predictions,
    Scored,
    text_length,
)
from newsapi.serving.service.lifecycle import ServedModel
from newsapi.settings import Settings

if TYPE_CHECKING:
    from newsapi.serving.tracing.spans import Tracing

#: a micro-batch of short texts is computed on the event loop when it holds at most this many
#: times ``inline_max_chars`` characters: under that, handing it to the model thread costs
#: more than computing it (bench/pinned.py, docs/benchmarks "Every core it is given")
INLINE_BATCH_TIMES = 4


class Classifier(ServedModel):
    """Everything the routes need to classify texts; built and started in the app's lifespan
    (its lifecycle: :class:`~newsapi.serving.service.lifecycle.ServedModel`)."""

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        activity: Activity | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        super().__init__(settings, metrics, activity, tracing)
        self._batcher: MicroBatcher[Pending, Prediction] = MicroBatcher(
            self._predict_batch,
            max_size=settings.batching.batch_max_size,
            window=settings.batching.batch_window_ms / 1000,
            tracing=tracing,
        )
        self._explainer = Explainer(self.served, self._lane, settings.batching)
        self._inline_chars = settings.batching.inline_max_chars
        self._inline_batch_chars = INLINE_BATCH_TIMES * self._inline_chars

    # -- predictions -------------------------------------------------------------------------
    async def predict(self, text: str) -> Prediction:
        """The category of one text: memory tier, else computed right here when it is short
        and alone (:meth:`_alone`), else the next micro-batch."""
        served = self.served()
        artifact, predictor = served
        version = artifact.model_version
        key = entry_key(version, text)
        category = self.cache.memory.get(version, key)
        if category is not None:
            self.metrics.memory_hit.inc()
            if self.tracing is not None:
                self.tracing.cache("memory")
            return Prediction(category, True, version, key, served)
        self.metrics.memory_miss.inc()
        if len(text) <= self._inline_chars and predictor.lean is not None and self._alone():
            # One turn of the loop first: requests read in the same turn as this one start
            # now, and if any did, they all share the next model call instead.
            await asyncio.sleep(0)
        if len(text) <= self._inline_chars and predictor.lean is not None and self._alone():
            # The lean path computes a short text in less time than the model thread's
            # round trip or a disk-tier read would take (the docs' "How a request is
            # served"): nobody waits behind it, so the event loop computes it.
            call = None if self.tracing is None else self.tracing.inline_call(version)
            [answer] = self._compute_here(artifact, predictor, [(key, text)])
            if call is not None:
                call.end()
            self._remember(version, [(key, text)], [answer])
            category, figures = answer.category, answer.figures
            return Prediction(category, False, version, key, served, figures)
        found = await self._batcher.submit(Pending(version, key, text))
        if self.tracing is not None:
            self.tracing.cache("disk" if found.cached else "computed")
        return found

    def _alone(self) -> bool:
        """This request is the worker's only one in flight (the app counts them; without
        an app nobody does), and the model thread neither works nor has work queued."""
        return self.activity.in_flight <= 1 and self._lane.free and not self._batcher.busy

    async def predict_many(self, texts: list[str]) -> Predictions:
        """The categories of ``texts`` in order; the misses go to the model in chunks that
        take turns with single-text requests (see :class:`~newsapi.serving.batching.ModelLane`)."""
        served = self.served()
        artifact, predictor = served
        version = artifact.model_version
        keys = entry_keys(version, texts)
        found = self.cache.memory.get_many(version, keys)
        missing = {key: text for key, text, c in zip(keys, texts, found, strict=True) if c is None}
        self.metrics.memory_hit.inc(len(texts) - len(missing))
        if self.tracing is not None:
            self.tracing.cache_many(len(texts), len(texts) - len(missing))
        if not missing:
            return Predictions(version, found, True, keys, served)  # type: ignore[arg-type]
        self.metrics.memory_miss.inc(len(missing))
        items = list(missing.items())
        answers = await self._compute_many(artifact, predictor, items)
        computed = self._remember(version, items, answers)
        pairs = list(zip(keys, found, strict=True))
        categories = [computed[key].category if c is None else c for key, c in pairs]
        figures = None
        if self.prediction_log is not None:  # the figures it records, where they were computed
            figures = [computed[key].figures if c is None else None for key, c in pairs]
        return Predictions(version, categories, False, keys, served, figures)

    async def _compute_many(
        self, artifact: Artifact, predictor: Predictor, items: list[tuple[bytes, str]]
    ) -> list[Computed]:
        """The answers for a call's misses: from the bulk process when it is large, the
        process ready and the model thread busy, else from the model thread, chunk by chunk."""
        version, batching = artifact.model_version, self.settings.batching
        labels = None
        if batching.bulk_process and len(items) >= batching.bulk_process_min_texts:
            idle = self._lane.idle and not self._batcher.waiting
            texts = [text for _, text in items]
            labels = await self.bulk.labels_for(version, artifact.pipeline, texts, thread_idle=idle)
        if labels is not None:
            self.metrics.predictions.labels("bulk_process").inc(len(labels))
            self.metrics.inferred[predictor.inference].inc(len(labels))
            names = artifact.target_names
            return [Computed(names[label], False) for label in labels]
        read_disk = self._reads_disk(len(items))
        described = (
            None if self.tracing is None else self.tracing.model(version, predictor.inference)
        )
        return await self._lane.run_chunked(
            items,
            partial(self._classify, artifact, predictor, read_disk=read_disk),
            text_length,
            described,
        )

    async def _predict_batch(self, pending: list[Pending]) -> list[Prediction]:
        """The micro-batcher's handler: one model call for the texts gathered."""
        served = self.served()
        artifact, predictor = served
        version = artifact.model_version
        # a key computed before a reload is the old model's: recompute it for this one
        keys = [p.key if p.version == version else entry_key(version, p.text) for p in pending]
        unique = list(dict(zip(keys, (p.text for p in pending), strict=True)).items())
        read_disk = self._reads_disk(len(unique))
        if self.tracing is not None:  # the current span: the batch's model call
            self.tracing.describe_model(version, predictor.inference, len(unique))
        if self._here(predictor, unique):
            answers = self._compute_here(artifact, predictor, unique)
        else:
            work = partial(self._classify, artifact, predictor, unique, read_disk=read_disk)
            answers = await self._lane.run(work)
        computed = self._remember(version, unique, answers)
        each = [computed[key] for key in keys]
        return [
            Prediction(answer.category, answer.stored, version, key, served, answer.figures)
            for key, answer in zip(keys, each, strict=True)
        ]

    def _here(self, predictor: Predictor, items: list[tuple[bytes, str]]) -> bool:
        """Whether the event loop computes this micro-batch itself: the lean path can, the
        model thread is free, and its texts are short (each at most ``inline_max_chars``,
        together at most :data:`INLINE_BATCH_TIMES` times that). A small model call's
        fixed costs (the hand-off to the model thread and back, the disk-tier reads) are
        more than its texts' own: with few connections per worker they were most of what a
        request cost more than the HTTP floor's."""
        if predictor.lean is None or not self._lane.free:
            return False
        budget = self._inline_batch_chars
        for _, text in items:
            if len(text) > self._inline_chars:
                return False
            budget -= len(text)
        return budget >= 0

    def _compute_here(
        self, artifact: Artifact, predictor: Predictor, items: list[tuple[bytes, str]]
    ) -> list[Computed]:
        """The lean path's answers for short ``items``, computed on the event loop (no disk
        read, no thread hand-off), with the figures the prediction log records when it is on;
        counted as inline."""
        texts, names = [text for _, text in items], artifact.target_names
        if self.prediction_log is None:
            answers = [Computed(c, False) for c in predictor.categories(names, texts)]
        else:
            categories, figured = predictor.categories_figured(names, texts)
            figures = figured if figured is not None else [None] * len(texts)
            answers = [Computed(c, False, f) for c, f in zip(categories, figures, strict=True)]
        self.metrics.inline.inc(len(items))
        self.metrics.inferred["lean"].inc(len(items))
        return answers

    def _reads_disk(self, count: int) -> bool:
        # A disk lookup (~33 µs) costs more than predicting a text in a large batch (~25 µs
        # in 32), and under load lookups slow the model thread, which lets more requests
        # queue: the disk tier is read for small model calls with nobody waiting behind.
        return count <= self.settings.cache.disk_read_max_batch and not self._batcher.waiting

    def _remember(
        self, version: str, items: list[tuple[bytes, str]], answers: list[Computed]
    ) -> dict[bytes, Computed]:
        """Fill the memory tier, queue the fresh answers for the disk: ``{key: answer}``."""
        computed = {key: answer for (key, _), answer in zip(items, answers, strict=True)}
        self.cache.memory.put_many(version, {key: a.category for key, a in computed.items()})
        self.cache.write_behind([(key, a.category) for key, a in computed.items() if not a.stored])
        self.metrics.batch_size.observe(len(items))
        return computed

    def _classify(
        self,
        artifact: Artifact,
        predictor: Predictor,
        items: list[tuple[bytes, str]],
        *,
        read_disk: bool,
    ) -> list[Computed]:
        """Runs in the model thread: :func:`.compute.classify_items`."""
        disk = self.cache.disk if read_disk else None
        measure = self.prediction_log is not None  # the figures it records, with the answers
        return classify_items(disk, self.metrics, artifact, predictor, items, measure=measure)

    async def scores(self, texts: list[str]) -> Scored:
        """Each text's category and per-category probabilities, computed fresh (not cached),
        with the model that computed them."""
        served = self.served()
        artifact, predictor = served
        if not predictor.has_scores:  # refused before any work is queued
            predictor.scores(artifact.target_names, [])
        compute = partial(predictor.scores, artifact.target_names, texts)
        self.metrics.predictions.labels("model").inc(len(texts))
        self.metrics.inferred[predictor.inference].inc(len(texts))
        scored = await asyncio.get_running_loop().run_in_executor(self._executor, compute)
        return Scored(artifact.model_version, scored, served)

    async def explain(self, texts: list[str], top: int = 10) -> tuple[str, list[Explanation]]:
        """The model version, and why each text got its category (:mod:`.explaining`)."""
        return await self._explainer.explain(texts, top)

    async def clear_cache(self) -> None:
        self.cache.memory.clear()
        await asyncio.get_running_loop().run_in_executor(None, self.cache.clear_disk)
