"""The classifier service with its cache, micro-batcher, bulk process and start-up policies.
Nothing here speaks HTTP: :mod:`newsapi.http` does, and delegates here."""
