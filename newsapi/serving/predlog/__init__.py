"""The prediction log: what the served model was asked and answered, off the request path.

:class:`PredictionLog` is one worker's writer (:mod:`.writer`); :class:`Record` and
:func:`schema` describe a row of its Parquet files (:mod:`.record`); :func:`read_log` reads a
folder of them back (:mod:`.files`), for the monitor notebook and the tests. pyarrow is
imported only when a log is written or read.
"""

from newsapi.serving.predlog.files import read_log
from newsapi.serving.predlog.record import Record, schema
from newsapi.serving.predlog.writer import PredictionLog

__all__ = ["PredictionLog", "Record", "read_log", "schema"]
