"""newsapi: a 20 newsgroups text classifier, trained in notebooks and served over HTTP."""

from newsapi.deferred import defer

__version__ = "0.1.0"

# scikit-learn imports it at start-up, the served pipelines never use it (see newsapi.deferred)
defer("scipy.stats")
