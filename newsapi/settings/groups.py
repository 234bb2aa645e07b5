"""The settings' groups, one per concern: every field is ``NEWSAPI_<FIELD>`` in the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "NEWSAPI_"
DEFAULT_ARTIFACT_DIR = Path("artifacts")
MODEL_FILENAME = "newsgroups_model.joblib"


class _Group(BaseSettings):
    """A group of settings: each field is ``NEWSAPI_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")


class ModelSettings(_Group):
    """Which model is served, and how a new one is picked up."""

    model_path: Path = Field(
        DEFAULT_ARTIFACT_DIR / MODEL_FILENAME, description="the joblib artifact to serve"
    )
    allow_version_mismatch: bool = Field(
        False, description="load a model written by another scikit-learn minor version"
    )
    reload_watch: bool = Field(False, description="reload when the artifact file changes")
    reload_poll_interval: float = Field(2.0, gt=0, description="seconds between watch polls")


class CacheSettings(_Group):
    """The two cache tiers: the in-process LRU and the shared ``joblib.Memory`` folder."""

    cache_dir: Path = Field(Path(".cache/predictions"), description="joblib.Memory location")
    cache_bytes_limit: int = Field(64 * 2**20, gt=0, description="disk cache size limit, bytes")
    cache_reduce_interval: float = Field(
        30.0, gt=0, description="seconds between two disk-cache trims"
    )
    cache_write_budget: float = Field(
        0.1,
        gt=0,
        le=1,
        description="largest share of one core the disk-cache writer may use; "
        "entries it cannot keep up with are dropped (counted), never waited for",
    )
    cache_write_quiet_ms: float = Field(
        5.0,
        ge=0,
        description="the disk-cache writer writes only after the worker has had no request "
        "in flight for this long (whatever the traffic, one slice of 8 entries at least "
        "every 5 s), so that it does not take the GIL from requests; 0: it writes while "
        "requests run too (within its write budget)",
    )
    cache_write_queue_bytes: int = Field(
        2**20,
        gt=0,
        description="most bytes of answers waiting for the disk writer; more are dropped "
        "(counted), never waited for",
    )
    memory_cache_size: int = Field(100_000, ge=0, description="in-process LRU entries")
    # every tier is keyed by a 16-byte digest, so the byte bounds hold however long the texts
    memory_cache_bytes: int = Field(
        32 * 2**20, ge=0, description="most bytes the in-process LRU holds (0 turns it off)"
    )
    disk_read_max_batch: int = Field(
        8,
        ge=0,
        description="model calls for at most this many texts, with no request waiting "
        "behind them, look in the disk tier first; others predict directly (cheaper per "
        "text than a disk read)",
    )


class BatchingSettings(_Group):
    """How concurrent requests share the model: micro-batches, chunks and the bulk process."""

    batch_window_ms: float = Field(
        0.0,
        ge=0,
        le=50,
        description="extra time a batch waits for company when the model is idle; "
        "0 batches only what arrives while the previous batch runs",
    )
    batch_max_size: int = Field(256, gt=0, description="most texts in one model call")
    bulk_chunk_chars: int = Field(
        8_192,
        gt=0,
        description="while single texts are waiting, a large /predictions call goes to the "
        "model in chunks of about this many characters, taking turns with them",
    )
    bulk_process: bool = Field(
        True,
        description="the model work of large /predictions calls runs in one child process "
        "per worker holding a copy of the served model, on another core than the worker's "
        "event loop; until it is ready, and if it fails, the model thread does it",
    )
    bulk_process_min_texts: int = Field(
        64,
        gt=0,
        description="a /predictions call goes to the bulk process from this many "
        "texts not found in the memory tier",
    )
    inline_max_chars: int = Field(
        1_000,
        ge=0,
        description="a single text of at most this many characters, arriving while it is "
        "the worker's only request and the model thread is idle, is predicted on the event "
        "loop by the lean path (no thread hand-off, no disk-tier read: computing it costs "
        "less than either), and so is a micro-batch of such texts of at most 4 times this "
        "many characters in all while the model thread is idle; 0: every text goes through "
        "the model thread",
    )
    gil_switch_interval_ms: float = Field(
        2.0,
        gt=0,
        le=5,
        description="how long a thread waits at most for the GIL while another computes "
        "(sys.setswitchinterval; Python's default is 5 ms), set once at start-up",
    )


class LimitSettings(_Group):
    """What one request may ask for and how long it may take to arrive."""

    max_text_length: int = Field(
        100_000, gt=0, description="longest text, in characters (a long newsgroup post)"
    )
    max_batch_size: int = Field(2_000, gt=0, description="most texts in one /predictions call")
    max_body_bytes: int = Field(
        8 * 2**20, gt=0, description="largest request body; larger gets 413"
    )
    body_timeout: float = Field(
        30.0, gt=0, description="seconds a client has to send a whole request body; then 408"
    )
    header_timeout: float = Field(
        10.0,
        gt=0,
        description="seconds a client has to send a request's headers, from its first byte "
        "(from connecting, for the first request); then 408 and the connection closes "
        "(newsapi serve's HTTP protocol, newsapi.http.connections)",
    )
    max_header_bytes: int = Field(
        64 * 2**10,
        ge=1024,
        description="largest header section of a request (request line and headers), in "
        "bytes; larger gets 431 and the connection closes (newsapi serve's HTTP protocol)",
    )
    max_headers: int = Field(
        100,
        gt=0,
        description="most headers in one request; more gets 431 and the connection closes "
        "(newsapi serve's HTTP protocol)",
    )
    body_buffer_bytes: int = Field(
        64 * 2**20,
        gt=0,
        description="most bytes of request bodies still arriving that one worker holds at "
        "once (a body that arrives whole in its first message is not counted); a body that "
        "would pass it gets 503 with Retry-After",
    )


class AdminSettings(_Group):
    """Who may clear the cache and reload the model, and which hosts are answered."""

    admin_token: SecretStr | None = Field(
        None, description="bearer token for DELETE /cache and POST /admin/reload"
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        ["*"],
        description="Host headers the server answers, comma-separated ('*.example.com' "
        "allowed); others get 400. '*' (the default) accepts any",
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [host.strip() for host in value.split(",") if host.strip()]
        return value


class ServerSettings(_Group):
    """``newsapi serve``: the defaults of its options, passed on to uvicorn."""

    host: str = Field("127.0.0.1", description="address to listen on (newsapi serve --host)")
    port: int = Field(8000, ge=0, le=65535, description="port to listen on (--port)")
    workers: int = Field(1, gt=0, description="worker processes (--workers)")
    graceful_timeout: int = Field(
        10,
        ge=0,
        description="seconds SIGTERM waits for requests in flight before closing connections "
        "(--graceful-timeout)",
    )
    keep_alive_timeout: int = Field(
        5, gt=0, description="seconds an idle connection is kept open (--keep-alive-timeout)"
    )
    limit_concurrency: int = Field(
        1000,
        gt=0,
        description="connections plus tasks at once per worker; beyond, 503 (--limit-concurrency)",
    )
    metrics_dir: Path | None = Field(
        None,
        description="a folder for the workers' shared metrics (--metrics-dir): each start gets "
        "a folder of its own in it, <pid>, as PROMETHEUS_MULTIPROC_DIR, removed when the server "
        "stops; the folders of servers that are gone are removed at the next start. Unset: "
        "PROMETHEUS_MULTIPROC_DIR as the environment sets it, if at all",
    )
    access_log: bool = Field(
        False,
        description="one log line per request: status, method, path, time to answer and the "
        "model version that answered (--access-log)",
    )
    # uvicorn's own default (5 s) is shorter than importing the stack and loading a model on a
    # busy 2-core machine, which made workers restart in a loop
    worker_healthcheck_timeout: int = Field(
        60,
        gt=0,
        description="seconds uvicorn's supervisor waits for a worker to be ready before "
        "restarting it",
    )


class V2Settings(_Group):
    """The Open Inference Protocol (V2)."""

    model_name: str = Field(
        "newsgroups",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="the model's name in /v2/models/{name}",
    )


class TrainingSettings(_Group):
    """Where the command line finds the store, the notebooks and the corpus."""

    artifacts_dir: Path = Field(
        DEFAULT_ARTIFACT_DIR,
        description="the model store's folder (newsapi train, runs, promote... --artifacts)",
    )
    notebooks_dir: Path | None = Field(
        None,
        description="the project's notebooks folder (--notebooks); unset: the clone's notebooks/",
    )
    data_home: Path | None = Field(
        None,
        description="scikit-learn's data folder holding the 20 newsgroups cache; unset: "
        "SCIKIT_LEARN_DATA, scikit-learn's own variable (read by newsapi.model.data)",
    )


class PredictionLogSettings(_Group):
    """The prediction log: what the served model was asked and answered, as Parquet files."""

    prediction_log_dir: Path | None = Field(
        None,
        description="a folder for the prediction log (Parquet files, one writer per worker); "
        "unset: no log",
    )
    prediction_log_sample: float = Field(
        1.0,
        ge=0,
        le=1,
        description="share of the answered texts that are logged, drawn at random per text",
    )
    prediction_log_text: bool = Field(
        False,
        description="keep each logged text itself; false: only its length, tokens and digest "
        "(no user text on disk)",
    )
    prediction_log_bytes: int = Field(
        2**30,
        gt=0,
        description="most bytes of log files in the folder, all workers together; the oldest "
        "files are removed first",
    )
    prediction_log_file_bytes: int = Field(
        8 * 2**20,
        gt=0,
        description="a worker starts a new file once the records held for the current one "
        "reach about this many bytes (their uncompressed size)",
    )
    prediction_log_file_seconds: float = Field(
        60.0,
        gt=0,
        description="a worker writes the records it holds as a file at least this often "
        "(seconds after the first of them)",
    )
    prediction_log_queue_bytes: int = Field(
        4 * 2**20,
        gt=0,
        description="most bytes of records (and of the texts the writer needs) waiting for "
        "the log writer; more are dropped (counted), never waited for",
    )
    prediction_log_window: int = Field(
        1000,
        gt=0,
        description="records of each model version that the /metrics window gauges "
        "(newsapi_prediction_window_*) are computed over, each worker its own last ones",
    )
    prediction_log_feedback_bytes: int = Field(
        64 * 2**20,
        gt=0,
        description="most bytes of feedback files (POST /feedback) in the log folder's "
        "feedback/ folder, all workers together; the oldest files are removed first",
    )
