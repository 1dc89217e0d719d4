"""Typed settings of the REST service (environment variables prefixed ``TINYREG_``)."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tinyreg.core.errors import ConfigError

__all__ = ["Settings", "default_td_schema_path", "read_token_file"]


def default_td_schema_path() -> Path:
    """Where ``scripts/setup.sh`` installs the W3C TD 1.1 JSON Schema (beside the venv)."""
    return Path(sys.prefix) / "share" / "tinyreg" / "td-schema-1.1.json"


class Settings(BaseSettings):
    """What ``tinyreg serve`` and :func:`tinyreg.registry.rest.create_app` are configured with.

    Every field can be set by an environment variable ``TINYREG_<NAME>`` (for example
    ``TINYREG_TOKEN``, ``TINYREG_READ_ONLY=1``, ``TINYREG_CORS_ORIGINS='["https://a.example"]'``).

    Attributes:
        store: The graph store: a directory (embedded Oxigraph), an ``http(s)://`` SPARQL
            endpoint, or ``None`` for the per-user default directory.
        model_store: The folder that keeps registered models' bytes
            (``TINYREG_MODEL_STORE``); default: ``models/`` in the store's directory.
        token: The bearer token writes need. Without one, every write is refused.
        token_file: A file whose first line is the token (``TINYREG_TOKEN_FILE``); read
            when the app's settings are built, and used instead of ``token``. Unlike a
            ``--token`` argument it is not visible to other users in ``ps``.
        read_only: Refuse every write, token or not.
        auth_reads: Reads need the token too (default: reads are open).
        cors_origins: Origins allowed by CORS (none by default; ``["*"]`` for any).
        max_body_bytes: Largest request body accepted, except model uploads.
        max_upload_bytes: Largest ``POST /models`` body (the .tflite and its card).
        sparql_timeout_s: Seconds ``/search/sparql`` waits for a query's answer.
        sparql_workers: Queries ``/search/sparql`` runs at once; more wait their turn
            within their own deadline. On an embedded store each runs in a worker
            process killed (and replaced) when its deadline passes.
        sparql_max_rows: The most rows (or triples) one ``/search/sparql`` answer may
            have; a bigger one is refused (400) while it is read, before it fills memory.
        sparql_per_client: Queries one client (remote address) may run at once; default
            one fewer than ``sparql_workers`` (at least one), so one client never holds
            every worker.
        sparql_processes: Run ``/search/sparql`` queries on an embedded store in worker
            processes (default); off, they run in threads that a timeout cannot stop.
        sparql_federation: Allow federated queries (``SERVICE``); off by default, since a
            ``SERVICE`` clause makes the server send requests wherever a query says.
        sparql_service_allow: With federation on, the only endpoint IRIs a ``SERVICE``
            clause may name.
        td_schema: The TD 1.1 JSON Schema file; ``None`` for the one ``scripts/setup.sh``
            installs.
        validate_td_schema: Check TDs against the JSON Schema (the shapes are always
            checked).
        default_ttl_s: Seconds a TD registration lives when the TD asks for no ``ttl``;
            ``None`` keeps it until deleted.
        purge_interval_s: Seconds between purges of expired TDs.
        event_log_size: Events kept for ``Last-Event-ID`` replay.
        sse_max_streams: Event streams (``/events``) open at once over all clients.
        sse_per_client: Event streams one client (remote address) may hold at once.
        page_size: ``GET /things`` page size when the client gives no ``limit``.
        public_url: The service's base URL as clients see it, for links and the
            directory's own TD; default: taken from each request.
        report_max_age_s: Seconds ``/reports/latest`` serves a report before writing it
            again (a write through the app makes it stale at once).
        broker: The MQTT broker ``POST /deployments`` deploys through (``mqtt://host:port``
            or ``mqtts://``); ``None`` turns deployments over REST off. A server setting,
            never a request field, so that no client makes the server connect elsewhere.
        signing_key: The deployments' signing key (PEM); default: ``signing-key.pem`` in
            the store's directory, or ``$TINYREG_SIGNING_KEY``.
        events_broker: The MQTT broker replicas share directory events through
            (``mqtt://host:port``; usually the deployments' broker); ``None``: this
            server's ``/events`` carries its own writes only. See
            :mod:`tinyreg.registry.rest.relay`.
        events_topic: The topic of those events (one per directory on a broker).
        events_key: The secret the events are signed with; default: the write token.
        cache_entries: Encoded answers (TDs, pages, matches) each server process keeps
            while the embedded store is unchanged; 0 turns the cache off.
        writer_url: Set by ``tinyreg serve --workers`` in its reader processes: the
            loopback URL of the process that holds the store, where every request
            other than a cacheable read is forwarded. Not for users to set.
        workers: Set by ``tinyreg serve --workers``: the number of server processes
            (for ``/metrics``).
        worker: Set by ``tinyreg serve --workers``: this process's number (0 holds the
            store and takes writes).
        local_token: Set by ``tinyreg serve``: the token of the local credential file
            beside the store (see :mod:`tinyreg.registry.rest.local`). Accepted for
            writes like ``token``. Not for users to set.
        freeze_heap: Set by ``tinyreg serve``, whose processes run the app alone: once
            the app has started and again once its TD cache is warm, every object alive
            is moved out of the cyclic garbage collector's reach (``gc.freeze``), so
            that a collection scans only what requests allocate (see
            ``docs/design.md``, *Serving*).

    """

    model_config = SettingsConfigDict(env_prefix="TINYREG_", extra="ignore")

    store: str | None = None
    model_store: Path | None = None
    token: SecretStr | None = None
    token_file: Path | None = None
    read_only: bool = False
    auth_reads: bool = False
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1 << 20, gt=0)
    max_upload_bytes: int = Field(default=16 << 20, gt=0)
    sparql_timeout_s: float = Field(default=10.0, gt=0)
    sparql_workers: int = Field(default=2, ge=1)
    sparql_per_client: int | None = Field(default=None, ge=1)
    sparql_max_rows: int = Field(default=100_000, ge=1)
    sparql_processes: bool = True
    sparql_federation: bool = False
    sparql_service_allow: list[str] = Field(default_factory=list)
    td_schema: Path | None = None
    validate_td_schema: bool = True
    default_ttl_s: int | None = Field(default=None, gt=0)
    purge_interval_s: float = Field(default=60.0, gt=0)
    event_log_size: int = Field(default=1000, ge=1)
    sse_max_streams: int = Field(default=256, ge=1)
    sse_per_client: int = Field(default=8, ge=1)
    page_size: int = Field(default=100, ge=1, le=10_000)
    public_url: str | None = None
    report_max_age_s: float = Field(default=300.0, gt=0)
    broker: str | None = None
    signing_key: Path | None = None
    events_broker: str | None = None
    events_topic: str = "tinyreg/directory/events"
    events_key: SecretStr | None = None
    cache_entries: int = Field(default=20_000, ge=0)
    writer_url: str | None = None
    workers: int = Field(default=1, ge=1)
    worker: int = Field(default=0, ge=0)
    local_token: SecretStr | None = None
    freeze_heap: bool = False

    @model_validator(mode="after")
    def _read_token_file(self) -> Settings:
        """Take the token from ``token_file`` when one is given."""
        if self.token_file is not None:
            self.token = read_token_file(self.token_file)
        return self

    @model_validator(mode="after")
    def _check_events(self) -> Settings:
        """A concrete events topic, and a key whenever events are shared."""
        topic = self.events_topic
        if not topic or any(c in topic for c in "#+\x00") or len(topic.encode()) > 1024:
            raise ConfigError(f"events topic {topic!r}: give one topic, without wildcards")
        if self.events_broker is not None and self.events_key is None and self.token is None:
            raise ConfigError(
                "shared events (TINYREG_EVENTS_BROKER) need a key to sign them: set "
                "TINYREG_EVENTS_KEY, or the write token, the same on every replica"
            )
        return self

    def events_secret(self) -> str | None:
        """The secret the replicas' events are signed with (key, else token)."""
        chosen = self.events_key if self.events_key is not None else self.token
        return chosen.get_secret_value() if chosen is not None else None

    def schema_path(self) -> Path:
        """The TD JSON Schema file to use."""
        return self.td_schema if self.td_schema is not None else default_td_schema_path()


def read_token_file(path: Path) -> SecretStr:
    """The token in the first line of a file (surrounding blanks dropped).

    Raises:
        ConfigError: If the file cannot be read or its first line is empty.

    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"token file {path}: cannot read it: {exc}") from exc
    token = lines[0].strip() if lines else ""
    if not token:
        raise ConfigError(f"token file {path}: the first line holds no token")
    return SecretStr(token)
