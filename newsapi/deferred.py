"""Start-up without the modules a served model never uses.

scikit-learn imports ``scipy.stats`` as a whole when it starts (``sklearn.utils.fixes``), which
is about a second of a server's start-up here, yet the pipelines this project serves never
call it. :func:`defer` puts a stand-in under the module's name: importing it costs nothing,
and the first time anything reads one of its attributes (``from scipy.stats import x``
included), the real module is imported and the stand-in takes on its contents. Code that
uses the module sees no difference, only when the second is spent.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

_lock = threading.Lock()


class DeferredModule(types.ModuleType):
    """Stands in for a module until one of its attributes is read."""

    def __getattr__(self, attr: str) -> Any:  # only called for attributes it does not have
        name = self.__name__
        with _lock:
            if sys.modules.get(name) is self:
                del sys.modules[name]
            try:
                real = importlib.import_module(name)
            except BaseException:
                sys.modules.setdefault(name, self)
                raise
            self.__dict__.update(real.__dict__)
        return getattr(real, attr)


def defer(name: str) -> bool:
    """Defer importing ``name`` until it is used; ``False`` when it is imported already, or
    cannot be found (then its own import will say so when it is needed)."""
    if name in sys.modules:
        return False
    spec = importlib.util.find_spec(name)
    if spec is None:
        return False
    module = DeferredModule(name)
    module.__spec__ = spec
    module.__loader__ = spec.loader
    module.__file__ = spec.origin
    module.__package__ = name if spec.submodule_search_locations is not None else spec.parent
    if spec.submodule_search_locations is not None:  # a package: its submodules stay importable
        module.__path__ = list(spec.submodule_search_locations)
    sys.modules[name] = module
    return True
