"""The classifier service on real model files: reloads free the old model, the garbage
collector's freeze happens once at start-up, big batches answer like single texts."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import shutil
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from newsapi.model.artifact import Artifact, load_artifact, save_artifact
from newsapi.serving.metrics import Metrics
from newsapi.serving.service import Classifier
from newsapi.serving.startup import lay_out_weights
from newsapi.settings import MODEL_FILENAME, Settings
from tests.support import TOPICS, rss_bytes, topic_sentences, train_tiny


def big_model(path: Path, seed: int) -> Artifact:
    """A model with a 60,000-word vocabulary (tens of MB in memory), so that keeping an old
    one alive shows in the resident memory."""
    rng = random.Random(seed)
    rows = topic_sentences(per_topic=400, seed=seed)
    texts = [
        f"{text} " + " ".join(f"w{seed}x{rng.randrange(60_000)}" for _ in range(150))
        for text, _ in rows
    ]
    names = sorted(TOPICS)
    pipeline = make_pipeline(TfidfVectorizer(), MultinomialNB())
    pipeline.fit(texts, [names.index(label) for _, label in rows])
    return save_artifact(pipeline, names, path)


def put(artifact: Artifact, target: Path) -> None:
    """Copy a model and its manifest to the served path (real files, as a deploy does)."""
    shutil.copyfile(artifact.path, target)
    shutil.copyfile(artifact.path.with_suffix(".json"), target.with_suffix(".json"))


def test_fifty_reloads_alternating_two_models_keep_memory_flat(tmp_path: Path) -> None:
    models = [big_model(tmp_path / f"m{i}" / MODEL_FILENAME, seed=i) for i in (1, 2)]
    served = tmp_path / "served" / MODEL_FILENAME
    served.parent.mkdir()
    put(models[0], served)
    settings = Settings.of(model_path=served, cache_dir=tmp_path / "cache")

    async def main() -> tuple[int, int, list[Any], int, int]:
        classifier = Classifier(settings, Metrics())
        await classifier.start()
        frozen = gc.get_freeze_count()
        gone: list[Any] = []
        try:
            for i in range(52):
                if i == 2:  # both models loaded once: what follows must not grow
                    gc.collect()
                    before = rss_bytes(os.getpid())
                put(models[(i + 1) % 2], served)
                old = classifier.current()
                old_model = weakref.ref(old.pipeline)
                del old
                _, now = await classifier.reload()
                assert now.model_version == models[(i + 1) % 2].model_version
                answer = await classifier.predict_many(["rocket orbit launch nasa moon"])
                assert answer.categories == ["space"]
                if i >= 1:  # the start-up model is frozen with the libraries
                    gone.append(old_model)
            gc.collect()
            after = rss_bytes(os.getpid())
        finally:
            await classifier.stop()
        return before, after, gone, frozen, gc.get_freeze_count()

    before, after, gone, frozen_at_start, frozen_at_end = asyncio.run(main())
    print(f"RSS after 2 reloads {before / 2**20:.1f} MiB, after 52 {after / 2**20:.1f} MiB")
    assert after <= before * 1.10
    assert all(ref() is None for ref in gone)  # every replaced model was freed
    assert frozen_at_end <= frozen_at_start  # reloads freeze nothing more (freed ones go)
    gc.unfreeze()  # this test process goes on running other tests


@pytest.mark.parametrize(
    "classifier", ["multinomial_nb", "complement_nb", "linear_svc", "logistic_regression", "sgd"]
)
def test_weights_laid_out_for_predict_give_the_same_answers(
    classifier: str, tmp_path: Path
) -> None:
    """lay_out_weights changes where the weights sit in memory, not a single result."""
    saved = train_tiny(tmp_path / MODEL_FILENAME, classifier)
    as_saved = load_artifact(saved.path).pipeline
    laid_out = load_artifact(saved.path).pipeline
    lay_out_weights(laid_out)
    final = laid_out[-1]
    weights = final.feature_log_prob_ if hasattr(final, "feature_log_prob_") else final.coef_
    assert weights.flags.f_contiguous
    assert weights.T.flags.c_contiguous
    texts = [text for text, _ in topic_sentences(per_topic=40, seed=7)] + ["", "zzz unknown"]
    assert np.array_equal(as_saved.predict(texts), laid_out.predict(texts))
    if hasattr(final, "predict_proba"):
        assert np.array_equal(as_saved.predict_proba(texts), laid_out.predict_proba(texts))
    else:
        assert np.array_equal(as_saved.decision_function(texts), laid_out.decision_function(texts))


def test_short_texts_alone_or_in_a_small_batch_are_computed_on_the_event_loop(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    """Alone and short, a text skips the model thread; in company, the micro-batch of short
    texts does too while it holds at most INLINE_BATCH_TIMES times inline_max_chars
    characters and the model thread is free. A longer text, a larger batch, or one behind a
    model call in progress goes to the model thread. The answers are the same."""
    from newsapi.serving.service.classifier import INLINE_BATCH_TIMES

    settings = Settings.of(
        model_path=tiny_model.path, cache_dir=tmp_path / "cache", bulk_process=False
    )
    bound = settings.batching.inline_max_chars
    short = "the rocket reached orbit"
    long = " ".join(["the rocket reached orbit"] * (bound // 24 + 1))
    assert len(short) <= bound < len(long)
    # short texts together over the batch budget: one more than fits
    near = " ".join(["the rocket reached orbit"] * (bound // 25 - 1))
    over = [f"{near} {i}" for i in range(INLINE_BATCH_TIMES + 1)]
    assert max(map(len, over)) <= bound
    assert sum(map(len, over)) > INLINE_BATCH_TIMES * bound

    def expected(text: str) -> str:
        return tiny_model.target_names[int(tiny_model.pipeline.predict([text])[0])]

    async def main() -> None:
        metrics = Metrics()
        classifier = Classifier(settings, metrics)
        await classifier.start()
        inline, thread = metrics.predictions.labels("inline"), metrics.predictions.labels("model")
        try:
            assert (await classifier.predict(short)).category == expected(short)
            assert (inline._value.get(), thread._value.get()) == (1, 0)
            assert (await classifier.predict(long)).category == expected(long)
            assert (inline._value.get(), thread._value.get()) == (1, 1)
            # other requests in flight in this worker: the batcher, whose small batch of
            # short texts the event loop computes
            classifier.activity.begin()
            classifier.activity.begin()
            texts = [f"{short} {i}" for i in range(3)]
            found = await asyncio.gather(*map(classifier.predict, texts))
            assert [f.category for f in found] == list(map(expected, texts))
            assert (inline._value.get(), thread._value.get()) == (4, 1)
            # short texts whose batch holds too many characters: the model thread
            found = await asyncio.gather(*map(classifier.predict, over))
            assert [f.category for f in found] == list(map(expected, over))
            assert (inline._value.get(), thread._value.get()) == (4, 1 + len(over))
            classifier.activity.end()
            classifier.activity.end()
            # a large call holds the model thread: a single text queues behind it
            many = [f"{short} and the pasta {i}" for i in range(2_000)]
            bulk = asyncio.create_task(classifier.predict_many(many))
            while classifier._lane.free:
                await asyncio.sleep(0)
            text = f"{short} 3"
            assert (await classifier.predict(text)).category == expected(text)
            await bulk
            assert inline._value.get() == 4
            assert thread._value.get() == 1 + len(over) + 1 + len(many)
        finally:
            await classifier.stop()

    asyncio.run(main())


def test_explanations_use_the_lean_form_the_served_predictor_compiled(
    tiny_model: Artifact, tmp_path: Path
) -> None:
    """No second compilation per model: the explanations compute with the predictor's own
    lean form, and give what scikit-learn's arithmetic gives."""
    from newsapi.serving import explain_weights
    from newsapi.serving.explain import explain_texts

    settings = Settings.of(model_path=tiny_model.path, cache_dir=tmp_path / "cache")
    texts = ["the rocket reached orbit", "a goal in the last minute", "flour and butter"]

    async def main() -> None:
        classifier = Classifier(settings, Metrics())
        await classifier.start()
        try:
            artifact, predictor = classifier.served()
            assert predictor.lean is not None
            _, alone = await classifier.explain(texts[:1])
            _, several = await classifier.explain(texts)
            assert artifact.pipeline not in explain_weights._LEAN
            expected = explain_texts(artifact.pipeline, artifact.target_names, texts, lean=False)
            assert alone == expected[:1]
            assert several == expected
        finally:
            await classifier.stop()

    asyncio.run(main())
