"""What the tests share that is not a fixture: small corpora and models, real servers, load,
folder sizes, and the pipeline steps test models pickle. Import from here (``from tests.support
import ...``); conftest.py holds only fixtures."""

from tests.support.corpora import (
    FILLER,
    TOPICS,
    overlapping_sentences,
    tiny_corpus,
    topic_sentences,
    train_behind,
    train_slow,
    train_tiny,
    write_csv,
    write_folder,
)
from tests.support.files import ROOT, disk_usage, folder_bytes
from tests.support.servers import (
    CLEAN_EXIT,
    Server,
    free_port,
    launch,
    metric,
    rss_bytes,
    wait_for,
    wait_ready,
)
from tests.support.steps import HOLDING, RELEASE, explode_on_marker, hold_slow_texts
from tests.support.traffic import Traffic, answered_by

__all__ = [
    "CLEAN_EXIT",
    "FILLER",
    "HOLDING",
    "RELEASE",
    "ROOT",
    "TOPICS",
    "Server",
    "Traffic",
    "answered_by",
    "disk_usage",
    "explode_on_marker",
    "folder_bytes",
    "free_port",
    "hold_slow_texts",
    "launch",
    "metric",
    "overlapping_sentences",
    "rss_bytes",
    "tiny_corpus",
    "topic_sentences",
    "train_behind",
    "train_slow",
    "train_tiny",
    "wait_for",
    "wait_ready",
    "write_csv",
    "write_folder",
]
