"""All configuration in one place, read from the environment (prefix ``NEWSAPI_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_ARTIFACT_DIR = Path("artifacts")
MODEL_FILENAME = "newsgroups_model.joblib"


class Settings(BaseSettings):
    """Service and training configuration; every field can be set as ``NEWSAPI_<NAME>``.

    The defaults work from a clone's top-level folder: the model that ``make train`` writes,
    a cache folder beside it, and limits sized for short news texts.
    """

    model_config = SettingsConfigDict(env_prefix="NEWSAPI_", frozen=True)

    # where things are
    model_path: Path = Field(
        DEFAULT_ARTIFACT_DIR / MODEL_FILENAME, description="the joblib artifact to serve"
    )
    cache_dir: Path = Field(Path(".cache/predictions"), description="joblib.Memory location")

    # caching
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
    memory_cache_size: int = Field(100_000, ge=0, description="in-process LRU entries")
    disk_read_max_batch: int = Field(
        8,
        ge=0,
        description="model calls for at most this many texts, with no request waiting "
        "behind them, look in the disk tier first; others predict directly (cheaper per "
        "text than a disk read)",
    )

    # cache byte bounds (issue 12): every tier is keyed by a 16-byte digest, so these bound
    # what the caches hold however long the texts are
    memory_cache_bytes: int = Field(
        32 * 2**20, ge=0, description="most bytes the in-process LRU holds (0 turns it off)"
    )
    cache_write_queue_bytes: int = Field(
        2**20,
        gt=0,
        description="most bytes of answers waiting for the disk writer; more are dropped "
        "(counted), never waited for",
    )
    # fair batching and latency (issue 12)
    gil_switch_interval_ms: float = Field(
        2.0,
        gt=0,
        le=5,
        description="how long a thread waits at most for the GIL while another computes "
        "(sys.setswitchinterval; Python's default is 5 ms), set once at start-up",
    )
    bulk_chunk_chars: int = Field(
        8_192,
        gt=0,
        description="while single texts are waiting, a large /predictions call goes to the "
        "model in chunks of about this many characters, taking turns with them",
    )
    bulk_process: bool = Field(
        True,
        description="the model work of large /predictions calls runs in one child process "
        "per worker holding a copy of the served model (105 MiB resident for the book's "
        "model), on another core than the worker's event loop; until it is ready, and if it "
        "fails, the model thread does it",
    )
    bulk_process_min_texts: int = Field(
        64,
        gt=0,
        description="a /predictions call goes to the bulk process from this many "
        "texts not found in the memory tier",
    )

    # request limits
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
        "(newsapi serve's HTTP protocol, newsapi.connections)",
    )
    body_buffer_bytes: int = Field(
        64 * 2**20,
        gt=0,
        description="most bytes of request bodies still arriving that one worker holds at "
        "once (a body that arrives whole in its first message is not counted); a body that "
        "would pass it gets 503 with Retry-After",
    )

    # micro-batching of concurrent /prediction calls
    batch_window_ms: float = Field(
        0.0,
        ge=0,
        le=50,
        description="extra time a batch waits for company when the model is idle; "
        "0 batches only what arrives while the previous batch runs",
    )
    batch_max_size: int = Field(256, gt=0, description="most texts in one model call")

    allow_version_mismatch: bool = Field(
        False, description="load a model written by another scikit-learn minor version"
    )

    # administration
    admin_token: SecretStr | None = Field(
        None, description="bearer token for DELETE /cache and POST /admin/reload"
    )
    reload_watch: bool = Field(False, description="reload when the artifact file changes")
    reload_poll_interval: float = Field(2.0, gt=0, description="seconds between watch polls")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        ["*"],
        description="Host headers the server answers, comma-separated ('*.example.com' "
        "allowed); others get 400. '*' (the default) accepts any",
    )

    # the Open Inference Protocol (V2)
    model_name: str = Field(
        "newsgroups",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="the model's name in /v2/models/{name}",
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [host.strip() for host in value.split(",") if host.strip()]
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
