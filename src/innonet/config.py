"""Settings from the environment (``INNONET_*``) and command-line flags."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INNONET_")

    # A SQLite file in the working directory: zero set-up for a first run.
    database_url: str = "sqlite:///innonet.db"
    host: str = "127.0.0.1"
    port: int = 8000
    # Signs flash-message cookies. Set INNONET_SECRET_KEY in production; the default is
    # only fit for a laptop because anyone can read it here.
    secret_key: str = "change-me-innonet-development-key"
    # Links in invitation and reset e-mails start with this (e.g. https://innonet.example.org);
    # empty: the address the request came to.
    base_url: str = ""
    # Optional mail server. Without one, invitation and reset links are shown to the admin
    # who created them and written to the server's log.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "innonet@localhost"
    smtp_starttls: bool = True
    # Where the queue of background jobs lives: empty for a file in data_dir (innonet serve
    # then starts a worker beside itself), redis://host:port/db for Redis and `innonet
    # worker` processes, memory:// to run each job at once where it is started.
    queue_url: str = ""
    # Files the server writes: the queue file (without a queue_url) and finished exports.
    data_dir: str = "innonet-data"
    # One JSON line per request on stderr (request id, method, route, status, duration).
    request_log: bool = False
    # Prometheus metrics at /metrics (let only the monitoring system reach that path).
    metrics: bool = False
    # Each server process builds the partner finder for new data as soon as it sees the
    # data change (seconds on the full H2020 data), so that no request waits for it.
    prefetch: bool = True
    # Limits that keep one client from starving the others (docs/security.md lists them).
    max_request_bytes: int = 1_000_000
    # Files uploaded for import (/imports, /api/v1/imports); the full H2020 participations
    # file is 19 MB unpacked.
    max_upload_bytes: int = 100_000_000
    # Knowledge-base attachments: at most this many bytes each (25 MB); kept in a folder
    # (relative to data_dir unless absolute), or with attachments_url "s3://bucket/prefix"
    # on any S3-compatible store (s3_endpoint_url for one that is not AWS; the usual
    # AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables give the keys).
    max_attachment_bytes: int = 25 * 1024 * 1024
    attachments_folder: str = "attachments"
    attachments_url: str | None = None
    s3_endpoint_url: str | None = None
    # Webhooks may call http:// and private or loopback addresses: for development and
    # tests only; in production an endpoint must be https on a public address.
    webhooks_allow_local: bool = False
    # PostgreSQL: the longest a statement may run, and may wait for a lock, in seconds;
    # SQLite: a writer waits up to the statement timeout for the one before it.
    statement_timeout: float = 30.0
    lock_timeout: float = 10.0


@lru_cache
def get_settings() -> Settings:
    """The settings read once from the environment."""
    return Settings()


# Sessions carry, under this key, the directory where state prepared from the database
# (rebuildable, never the only copy of anything) is kept between processes.
PREPARED_DIR = "innonet.prepared_dir"


def prepared_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "prepared"
