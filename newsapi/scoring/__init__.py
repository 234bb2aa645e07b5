"""Offline batch scoring: a corpus too big for a request, scored into a file (``newsapi score``).

The input is planned into pieces (:mod:`.sources`), each piece is read as Arrow record batches
(:mod:`.readers`) and scored with the served model's own arithmetic (:mod:`.batches`, calling
:mod:`newsapi.serving.predictor`), and written as part files in a staging folder beside the
output (:mod:`.sinks`), which become the output at once at the end. The pieces run one after
the other in this process (:mod:`.local`), in local processes forked from it (:mod:`.pool`),
or as the partitions of a Dask bag (:mod:`.cluster`); :mod:`.job` chooses, and holds what they
share.
"""
