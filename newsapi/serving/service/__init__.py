"""The classifier service: the loaded model, its cache and its batcher, behind one object.

Routes ask it for predictions; it answers from the memory tier on the event loop when it
can, and otherwise hands a whole batch to one model thread (disk lookups and ``predict``
together, one thread hop per batch). Large ``/predictions`` calls go to the model in chunks
that take turns with single texts (:class:`~newsapi.serving.batching.ModelLane`), or to the
bulk process (:mod:`~newsapi.serving.bulk`) while the model thread is busy.
The model is swapped atomically on reload: each batch takes one snapshot of the current
model, and every answer carries that model's version.

:mod:`.lifecycle` holds the model's life (load, start, stop, install, reload), and
:mod:`.classifier` the predictions.
"""

from newsapi.serving.service.classifier import Classifier
from newsapi.serving.service.lifecycle import ServedModel

__all__ = ["Classifier", "ServedModel"]
