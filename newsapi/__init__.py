"""newsapi: a 20 newsgroups text classifier, trained in notebooks and served over HTTP."""

__version__ = "0.1.0"
