"""The benchmark harness: ``python -m bench`` (``make bench``), ``python -m bench --smoke``.

It measures the newsapi service against two reference apps started with the same uvicorn
settings: the HTTP floor (:mod:`bench.floor_app`, no model at all) and the seed-style
baseline (:mod:`bench.seed_app`, the book's way of serving the model), with ``wrk`` driving
the load. See ``bench/README.md``.
"""
