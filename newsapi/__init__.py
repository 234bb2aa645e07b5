"""newsapi: a 20 newsgroups text classifier, trained in notebooks and served over HTTP."""

import os
import platform

# The same parameters must give the same model bytes (hence the same model version) on every
# x86-64 machine in the locked environment. numpy's AVX-512 kernels for log, exp... round
# differently from its AVX2 ones (SVML), so the book's model came out as one version on
# AVX-512 machines and another elsewhere. numpy reads this variable when it is first imported
# (the names are numpy 2.4's, the lock's): a process that imports newsapi first (notebook
# kernels, the command line, the server, and their child processes, which inherit it) uses
# AVX2 kernels at most; `make` sets it for every process it starts. The server runs with it
# too (not measured apart: its time goes to tokenising and sparse products).
NUMPY_FEATURES_OFF = "X86_V4 AVX512_ICL AVX512_SPR"
if platform.machine().lower() in ("x86_64", "amd64"):
    os.environ.setdefault("NPY_DISABLE_CPU_FEATURES", NUMPY_FEATURES_OFF)

from newsapi.deferred import defer  # noqa: E402  (defer() below imports scipy, hence numpy)

__version__ = "0.1.0"

# scikit-learn imports it at start-up, the served pipelines never use it (see newsapi.deferred)
defer("scipy.stats")
