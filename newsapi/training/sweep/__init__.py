"""Sweeps: what a sweep is (:mod:`.spec`), the cross-validated search (:mod:`.search`) and
reading its results (:mod:`.report`)."""
