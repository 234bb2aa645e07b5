"""Training: building and evaluating the pipeline, a run into the store, model cards, plots,
and sweeps (:mod:`newsapi.training.sweep`)."""
