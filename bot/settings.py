"""Settings from the environment (and a `.env` file when present).

One typed object so every knob is documented in one place and validated at
start-up: a typo in an interval should stop the bot before it polls a fleet,
not half-way through a change window. Secrets are `SecretStr` so they never
print by accident.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.change_windows import parse_windows
from bot.syslog.listen_spec import parse_listen_spec


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # Where things live
    inventory: Path = Field(default=Path("inventory.yaml"), alias="CCERT_INVENTORY")
    # A SQLite file (the default), or a PostgreSQL URL (`postgresql://user@host:5432/ccert`) that
    # two or more instances share; its password goes in CCERT_DB_PASSWORD, not in the URL.
    db: str = Field(default="ccert.db", alias="CCERT_DB")
    db_password: SecretStr | None = Field(default=None, alias="CCERT_DB_PASSWORD")
    # Active/standby over PostgreSQL: a standby takes the lead within this long of the leader's
    # death; a leader that cannot renew stops acting within half of it.
    leader_timeout_seconds: float = Field(default=15, ge=2, le=600, alias="CCERT_LEADER_TIMEOUT_SECONDS")
    # This instance's name in status, /healthz and the audit (default: host name and process id).
    instance: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9._:@-]*$", alias="CCERT_INSTANCE")

    # Controller sessions
    max_concurrency: int = Field(default=50, ge=1, le=2000, alias="CCERT_MAX_CONCURRENCY")
    # Worker processes a check of 100+ controllers is sharded over: 0 = one per core (at most 4).
    poll_workers: int = Field(default=0, ge=0, le=16, alias="CCERT_POLL_WORKERS")
    ssh_timeout_seconds: float = Field(default=30.0, gt=0, le=600, alias="CCERT_SSH_TIMEOUT_SECONDS")
    ssh_known_hosts: Path | None = Field(default=None, alias="CCERT_SSH_KNOWN_HOSTS")
    ssh_strict_host_keys: bool = Field(default=True, alias="CCERT_SSH_STRICT_HOST_KEYS")

    # Slack
    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str | None = Field(default=None, alias="CCERT_SLACK_API_URL")
    port: int = Field(default=3000, ge=1, le=65535, alias="PORT")
    alert_channel: str | None = Field(default=None, alias="CCERT_ALERT_CHANNEL")
    digest_channel: str | None = Field(default=None, alias="CCERT_DIGEST_CHANNEL")

    # Scheduled checks, alerts and the digest
    check_interval_minutes: float = Field(default=15, gt=0, le=1440, alias="CCERT_CHECK_INTERVAL_MINUTES")
    digest_time: str = Field(default="08:00", alias="CCERT_DIGEST_TIME")
    timezone: str = Field(default="UTC", alias="CCERT_TIMEZONE")
    stuck_after_minutes: float = Field(default=30, ge=0, le=1440, alias="CCERT_STUCK_AFTER_MINUTES")
    unreachable_after_checks: int = Field(default=2, ge=1, le=100, alias="CCERT_UNREACHABLE_AFTER_CHECKS")
    alert_dedupe_minutes: float = Field(default=60, ge=0, le=10080, alias="CCERT_ALERT_DEDUPE_MINUTES")
    # How long snapshots and their AP rows are kept (`CCERT_HISTORY_DAYS` is the older name);
    # one compact summary per controller per day outlives them (history and digest keep working).
    retention_days: int = Field(
        default=30, ge=1, le=3650, validation_alias=AliasChoices("CCERT_RETENTION_DAYS", "CCERT_HISTORY_DAYS")
    )
    # The trustpoint and certificates change only with an upgrade, a reload or a re-enrolment:
    # a routine check re-reads them when uptime or version says so, or after this long.
    static_refresh_hours: float = Field(default=24, gt=0, le=24 * 365, alias="CCERT_STATIC_REFRESH_HOURS")

    # AP syslog receiver, e.g. "udp://0.0.0.0:5514,tcp://0.0.0.0:5514" (off when empty)
    syslog_listen: str = Field(default="", alias="CCERT_SYSLOG_LISTEN")

    # Remediation: two-person approval and the time-back playbooks
    required_approvals: int = Field(default=2, ge=1, le=10, alias="CCERT_REQUIRED_APPROVALS")
    approvers: str = Field(default="", alias="CCERT_APPROVERS")
    approval_ttl_minutes: float = Field(default=60, gt=0, le=7 * 24 * 60, alias="CCERT_APPROVAL_TTL_MINUTES")
    playbook_wait_minutes: float = Field(default=60, gt=0, le=24 * 60, alias="CCERT_PLAYBOOK_WAIT_MINUTES")
    playbook_poll_seconds: float = Field(default=120, gt=0, le=3600, alias="CCERT_PLAYBOOK_POLL_SECONDS")
    playbook_dir: Path | None = Field(default=None, alias="CCERT_PLAYBOOK_DIR")
    # When a time-back may start, in CCERT_TIMEZONE, e.g. "Sat 22:00-Sun 04:00" (any time when empty)
    change_windows: str = Field(default="", alias="CCERT_CHANGE_WINDOWS")

    # The console's exports (`/ccert export`, `/ccert audit <id> --export`) are written here
    # (created when missing); Slack gets them as uploads instead.
    export_dir: Path = Field(default=Path("."), alias="CCERT_EXPORT_DIR")

    # On SIGTERM: how long a check that is posting may take to finish the post it is making
    # (and, after that, a run's chat to catch up); a post cut short is found on restart.
    shutdown_grace_seconds: float = Field(default=20, ge=0, le=600, alias="CCERT_SHUTDOWN_GRACE_SECONDS")

    # Health and metrics: `/healthz` and `/metrics` are served on PORT in HTTP mode; in Socket
    # Mode (no inbound HTTP) on their own port, which "off" disables.
    metrics_port: int | None = Field(default=9109, ge=1, le=65535, alias="CCERT_METRICS_PORT")
    metrics_host: str = Field(default="127.0.0.1", alias="CCERT_METRICS_HOST")

    # Access control, e.g. "status,aps=U0123ABCD,S0456EFGH; advise=*" (Slack user or
    # user-group IDs per command). Commands not named: everyone, except `remediate` (and its
    # --dry-run), which only the approvers (CCERT_APPROVERS) may run unless it is named here.
    access: str = Field(default="", alias="CCERT_ACCESS")

    @property
    def db_password_text(self) -> str | None:
        """The PostgreSQL password, for the driver only (never logged or shown)."""
        return self.db_password.get_secret_value() if self.db_password else None

    @field_validator("db", mode="before")
    @classmethod
    def _db_text(cls, value: object) -> object:
        """A path given in code (tests, the demo) is kept as text: a URL must not become a Path."""
        return str(value) if isinstance(value, Path) else value

    @field_validator("ssh_known_hosts", mode="before")
    @classmethod
    def _empty_path_is_none(cls, value: object) -> object:
        if value in ("", None):
            return None
        return Path(str(value)).expanduser()

    @field_validator("export_dir", mode="before")
    @classmethod
    def _export_dir(cls, value: object) -> object:
        return Path(str(value or ".")).expanduser()

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _off_is_none(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("off", "none", "false", "0", ""):
            return None
        return value

    @field_validator("syslog_listen")
    @classmethod
    def _listen_spec(cls, value: str) -> str:
        parse_listen_spec(value)  # raises ValueError with the fix in words
        return value

    @field_validator("change_windows")
    @classmethod
    def _windows(cls, value: str) -> str:
        parse_windows(value)  # raises ChangeWindowError (a ValueError) with the expected shape
        return value

    @field_validator("digest_time")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        hours, _, minutes = value.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60 and len(minutes) == 2):
            raise ValueError("use HH:MM, e.g. 08:00")
        return f"{int(hours):02d}:{minutes}"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}' (use an IANA name like Europe/Paris)") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(**overrides: object) -> Settings:
    """Build settings; `overrides` use field names (tests, the demo)."""
    return Settings(**overrides)  # type: ignore[arg-type]


def describe_settings_error(error: ValidationError) -> list[str]:
    """Turn pydantic's error into lines an operator can act on, naming the env var."""
    lines = []
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]) or "settings"
        lines.append(f"environment {name}: {str(item['msg']).removeprefix('Value error, ')}")
    return lines
