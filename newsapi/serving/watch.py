"""Optional file watch: reload the model when a new artifact lands (NEWSAPI_RELOAD_WATCH)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from newsapi.errors import NewsapiError
from newsapi.model.artifact import manifest_path

if TYPE_CHECKING:
    from newsapi.serving.service import Classifier

log = logging.getLogger(__name__)


def _stamp(classifier: Classifier) -> tuple[int, int] | None:
    path = manifest_path(classifier.settings.model.model_path)
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


async def watch_artifact(classifier: Classifier, interval: float) -> None:
    """Poll the manifest every ``interval`` seconds; when it changes, reload.

    The manifest is written last by ``save_artifact``, so its change means a whole new model
    is in place. A refused artifact is logged once per change; the old model keeps serving.
    """
    seen = await asyncio.to_thread(_stamp, classifier)
    while True:
        await asyncio.sleep(interval)
        stamp = await asyncio.to_thread(_stamp, classifier)
        if stamp is None or stamp == seen:
            continue
        seen = stamp
        try:
            previous, artifact = await classifier.reload()
        except NewsapiError as exc:
            log.error("watched artifact refused, still serving the old model: %s", exc)
        except Exception as exc:  # the watch must outlive any one bad file
            log.error("watched artifact failed to load (%r), still serving the old model", exc)
        else:
            log.info("watch: %s -> %s", previous, artifact.model_version)
