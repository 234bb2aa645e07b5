"""Explanations for the classifier service: a single text joins the next micro-batch of
explanations, several take turns with the other work of the model lane, chunk by chunk.

They are computed fresh: an explanation is hundreds of bytes to hundreds of kilobytes, and
the cache tiers bound their bytes by counting entries of one size.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from newsapi.model.artifact import Artifact
from newsapi.serving.batching import MicroBatcher, ModelLane
from newsapi.serving.explain import Explanation, explain_texts, explainable
from newsapi.serving.lean import LeanModel
from newsapi.serving.predictor import Predictor
from newsapi.settings import BatchingSettings


def served_lean(predictor: Predictor) -> LeanModel | bool:
    """What explanations compute with: the lean form the served predictor compiled and
    checked at load (not a second copy), or scikit-learn where the predictor falls back."""
    return predictor.lean if predictor.lean is not None else False


class Explainer:
    """The explanation side of the service, on its model lane."""

    def __init__(
        self,
        served: Callable[[], tuple[Artifact, Predictor]],
        lane: ModelLane,
        batching: BatchingSettings,
    ) -> None:
        self._served = served
        self._lane = lane
        # concurrent /explanation calls share one model call too (keyed by their ``top``)
        self._batcher: MicroBatcher[tuple[str, int], tuple[str, Explanation]] = MicroBatcher(
            self._batch, max_size=batching.batch_max_size, window=batching.batch_window_ms / 1000
        )

    async def explain(self, texts: list[str], top: int = 10) -> tuple[str, list[Explanation]]:
        """The model version, and why each text got its category (its ``top`` largest
        terms)."""
        artifact, predictor = self._served()
        explainable(artifact.pipeline)  # refused before any work is queued
        if len(texts) == 1:
            version, explanation = await self._batcher.submit((texts[0], top))
            return version, [explanation]
        work = partial(
            explain_texts,
            artifact.pipeline,
            artifact.target_names,
            top=top,
            lean=served_lean(predictor),
        )
        return artifact.model_version, await self._lane.run_chunked(texts, work, len)

    async def _batch(self, items: list[tuple[str, int]]) -> list[tuple[str, Explanation]]:
        """The micro-batcher's handler: one model call per ``top`` asked."""
        artifact, predictor = self._served()
        explainable(artifact.pipeline)  # a reload may have swapped in another model
        lean = served_lean(predictor)

        def work() -> list[tuple[str, Explanation]]:
            answers: dict[int, Explanation] = {}
            for top in {top for _, top in items}:
                indexes = [i for i, (_, wanted) in enumerate(items) if wanted == top]
                texts = [items[i][0] for i in indexes]
                explained = explain_texts(
                    artifact.pipeline, artifact.target_names, texts, top, lean=lean
                )
                answers.update(zip(indexes, explained, strict=True))
            return [(artifact.model_version, answers[i]) for i in range(len(items))]

        return await self._lane.run(work)
