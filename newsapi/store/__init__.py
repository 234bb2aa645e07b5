"""The model store: every training run kept as plain files, the promotion log, the promoted
(served) pair, and the runs table. Serving reaches it only through :mod:`newsapi.store.served`."""
