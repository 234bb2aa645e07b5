"""Start-up without the modules a served model never uses.

scikit-learn imports ``scipy.stats`` as a whole when it starts (``sklearn.utils.fixes``), which
is about a second of a server's start-up here, yet the naive Bayes pipelines this project
serves by default never call it (loading a linear classifier does: ``sklearn.linear_model``
reads from it, and then it is simply imported then). :func:`defer` puts a stand-in under the
module's name: importing it costs nothing, and the first time anything reads one of its
attributes (``from scipy.stats import x`` included), the real module is imported and the
stand-in takes on its contents. Code that uses the module sees the same names; only when the
second is spent changes. (A name rebound on the real module later is not seen through a
reference to the stand-in: nobody here patches scipy.stats.)
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any


class DeferredModule(types.ModuleType):
    """Stands in for a module until one of its attributes is read."""

    def __getattr__(self, attr: str) -> Any:  # only called for attributes it does not have
        if attr.startswith("__") and attr.endswith("__") and attr != "__all__":
            raise AttributeError(attr)  # probes of module metadata import nothing
        name = self.__name__
        # No lock of our own: the import system's per-module lock makes a second thread
        # wait for the first one's import (and sees any deadlock).
        if sys.modules.get(name) is self:
            sys.modules.pop(name, None)
        real = importlib.import_module(name)
        self.__dict__.update(real.__dict__)
        return getattr(real, attr)


def defer(name: str) -> bool:
    """Defer importing ``name`` until it is used; ``False`` when it is imported already or
    cannot be found (then its own import will say so when it is needed)."""
    if name in sys.modules:
        return False
    try:
        spec = importlib.util.find_spec(name)  # imports the parent package
    except ImportError:
        return False
    if spec is None:
        return False
    module = DeferredModule(name)
    module.__spec__ = spec
    module.__loader__ = spec.loader
    module.__file__ = spec.origin
    module.__cached__ = spec.cached  # type: ignore[attr-defined]
    module.__package__ = name if spec.submodule_search_locations is not None else spec.parent
    if spec.submodule_search_locations is not None:  # a package: its submodules stay importable
        module.__path__ = list(spec.submodule_search_locations)
    sys.modules[name] = module
    return True
