"""Settings: the only place defaults live (env prefix JOULE_, flags of `joule serve` win)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from joule.kit.logging import LogFormat


class UnknownStationPolicy(StrEnum):
    """What to do with a station id the CSMS has never seen (contract: --unknown-stations)."""

    PENDING = "pending"
    ACCEPT = "accept"
    REJECT = "reject"


class Role(StrEnum):
    """Which parts of Joule this process runs."""

    ALL = "all"
    GATEWAY = "gateway"
    CORE = "core"
    API = "api"


class Settings(BaseSettings):
    """Every setting of a Joule process; read from JOULE_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="JOULE_", env_file=None, extra="ignore")

    host: str = "127.0.0.1"
    http_port: int = 8000
    ocpp_port: int = 9000
    database_url: str = "sqlite:///./joule.db"
    unknown_stations: UnknownStationPolicy = UnknownStationPolicy.PENDING
    role: Role = Role.ALL
    auto_migrate: bool = True

    # First admin, created at start-up when no operator exists yet (contract).
    admin_email: str | None = None
    admin_password: str | None = None

    # API auth
    jwt_secret: str | None = None  # generated and kept in the database when not set
    jwt_ttl_s: int = 8 * 3600

    # OCPP transport limits
    max_frame_bytes: int = 1024 * 1024
    ping_interval_s: float | None = 60.0
    ping_timeout_s: float | None = 600.0  # Q4: stations that never pong stay while they talk
    handshake_timeout_s: float = 10.0
    first_message_timeout_s: float = 120.0
    call_timeout_s: float = 30.0
    max_connections_per_ip: int = 0  # 0 = unlimited; set for public deployments (scenario 26)
    auth_failures_before_throttle: int = 10
    auth_throttle_window_s: float = 60.0
    heartbeat_interval_s: int = 300
    strict_extra_properties: bool = False  # scenario 27: lenient by default, logged + stripped
    message_log_limit: int = 1000  # bounded per-station OCPP message log
    # Cyclic GC of a serving process (kit/gc_tuning.py): generation-0 threshold; 0 = Python's.
    gc_gen0_threshold: int = Field(default=50_000, ge=0)

    # Real-time authorization hook (issue 5): asked about tokens not on file (or every token)
    auth_hook_url: str | None = None
    auth_hook_timeout_ms: int = Field(default=800, ge=50, le=30_000)
    auth_hook_fallback: Literal["local", "accept", "reject"] = "local"
    auth_hook_all: bool = False

    # TLS (security profiles 2 and 3); the TLS listener runs only when cert and key are set
    ocpp_tls_port: int | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_client_ca_file: Path | None = None  # CA that signs station certificates (SP3)

    # Fault injection for robustness tests (scenario 2), e.g. "abort_after_commit:StartTransaction".
    # Comma-separated "<when>:<action>" with when = abort_before_dispatch | abort_after_commit.
    # Never set in production: the socket is aborted as if the CSMS process had died there.
    fault_injection: str | None = None

    commit_max_batch: int = Field(default=512, ge=1)
    # A transient database error (deadlock, SQLite busy) is retried this many times before the
    # station gets InternalError and retries itself (Q21; C16 §3.7.1, E13.FR.02). Scenario 4 tests
    # lower both so that a refused write surfaces in well under a second.
    commit_retries: int = Field(default=5, ge=0)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    # json | console; unset: console on a terminal, JSON lines otherwise (kit/logging.py).
    log_format: LogFormat | None = None
    log_level: str = "INFO"

    # Monitoring and alerts (domain/alerting): how often the rules are evaluated, e-mail delivery
    # (no SMTP host: no e-mail), webhook retries with exponential back-off, bulk command fan-out.
    alert_interval_s: float = Field(default=15.0, gt=0)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "joule@localhost"
    webhook_attempts: int = Field(default=5, ge=1)
    webhook_backoff_s: float = Field(default=2.0, ge=0)
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    bulk_concurrency: int = Field(default=10, ge=1)
    # Local authorization lists (domain/locallist): access changes are gathered for `debounce`
    # before the affected stations are synced; a (re)connected station is reconciled after
    # `settle` (its boot answer first); every station is reconciled every `interval` (0: never).
    # Off: lists are only pushed on demand (POST /stations/{id}/local-list/sync).
    local_lists_auto: bool = True
    local_list_debounce_s: float = Field(default=0.5, ge=0)
    local_list_settle_s: float = Field(default=1.0, ge=0)
    local_list_interval_s: float = Field(default=900.0, ge=0)
    local_list_concurrency: int = Field(default=4, ge=1)
