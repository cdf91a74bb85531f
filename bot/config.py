"""Settings: read once from the environment (and an optional .env file) into one typed object.

A missing or malformed setting raises :class:`ConfigError` naming the setting; the CLI turns it
into one clear line on stderr and exit code 2.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"


class ConfigError(Exception):
    """A setting is missing or malformed."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    pseudonym_secret: str
    log_level: str = "INFO"
    conversation_idle_hours: float = 24.0
    remind_imminent_seconds: int = 60
    remind_urgent_seconds: int = 300
    telegram_bot_token: str | None = None
    telegram_staff_chat_id: int | None = None
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_webhook_listen: tuple[str, int] = ("0.0.0.0", 8080)
    outbox_max_attempts: int = 0  # 0 = retry forever (nothing is dropped)
    telegram_staff_language: str = "az"  # the language of the staff chat (cards, notices)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def staff_channel(self) -> str | None:
        """The channel the counsellor queue is posted to, if any besides the database."""
        if self.telegram_enabled and self.telegram_staff_chat_id is not None:
            return "telegram"
        return None

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def normalise_database_url(url: str, setting: str = "DATABASE_URL") -> str:
    """Accept the usual spellings and return an async SQLAlchemy URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not scheme or "://" not in url:
        raise ConfigError(
            setting, f"not a database URL: {url!r} (expected postgresql://... or sqlite:///...)"
        )
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg"):
        if not parts.hostname and not parts.path.strip("/"):
            raise ConfigError(setting, "a PostgreSQL URL needs a host and a database name")
        rest = url.split("://", 1)[1]
        return f"postgresql+asyncpg://{rest}"
    if scheme in ("sqlite", "sqlite+aiosqlite"):
        rest = url.split("://", 1)[1]
        if not rest.startswith("/"):
            raise ConfigError(setting, "a SQLite URL looks like sqlite:///path/to/file.db")
        return f"sqlite+aiosqlite://{rest}"
    raise ConfigError(setting, f"unsupported database {scheme!r}: use postgresql:// or sqlite:///")


def _int(
    environ: Mapping[str, str], name: str, default: int | None, *, minimum: int | None = None
) -> int | None:
    raw = _env(environ, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(name, f"must be at least {minimum}, got {value}")
    return value


def _float(environ: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = _env(environ, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"must be a number, got {raw!r}") from None
    if value <= minimum:
        raise ConfigError(name, f"must be greater than {minimum}, got {value}")
    return value


def _url(environ: Mapping[str, str], name: str, default: str | None) -> str | None:
    raw = _env(environ, name)
    if raw is None:
        return default
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(name, f"must be an http(s) URL, got {raw!r}")
    return raw.rstrip("/")


def _listen(environ: Mapping[str, str], name: str) -> tuple[str, int]:
    raw = _env(environ, name) or "0.0.0.0:8080"
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(name, f"must look like HOST:PORT, got {raw!r}")
    return host, int(port)


def _secret(environ: Mapping[str, str], data_dir: Path, required: bool) -> str:
    raw = _env(environ, "PSEUDONYM_SECRET")
    if raw is not None:
        if len(raw) < 16:
            raise ConfigError("PSEUDONYM_SECRET", "must be at least 16 characters (use a long random string)")
        return raw
    if required:
        raise ConfigError(
            "PSEUDONYM_SECRET",
            "is required with Telegram or PostgreSQL (a long random string; keep it: changing it "
            "makes every person new)",
        )
    # Local terminal use: keep a generated secret beside the SQLite file.
    path = data_dir / "pseudonym.secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """Read settings from ``environ`` (default: os.environ) over the values of ``env_file``."""
    merged: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ if environ is None else environ)

    data_dir = Path(_env(merged, "DATA_DIR") or "data")
    raw_db = _env(merged, "DATABASE_URL")
    database_url = (
        normalise_database_url(raw_db)
        if raw_db
        else f"sqlite+aiosqlite:///{(data_dir / 'helpline.db').resolve()}"
    )

    token = _env(merged, "TELEGRAM_BOT_TOKEN")
    if token is not None and (":" not in token or not token.split(":", 1)[0].isdigit()):
        raise ConfigError("TELEGRAM_BOT_TOKEN", "does not look like a BotFather token (123456:ABC...)")
    staff_chat = _int(merged, "TELEGRAM_STAFF_CHAT_ID", None)
    if token and staff_chat is None:
        raise ConfigError(
            "TELEGRAM_STAFF_CHAT_ID",
            "is required with TELEGRAM_BOT_TOKEN (the counsellors' supergroup id, e.g. -1001234567890)",
        )
    webhook_url = _url(merged, "TELEGRAM_WEBHOOK_URL", None)
    webhook_secret = _env(merged, "TELEGRAM_WEBHOOK_SECRET")
    if webhook_url and not webhook_secret:
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET", "is required when TELEGRAM_WEBHOOK_URL is set")
    if webhook_secret and not all(c.isalnum() or c in "_-" for c in webhook_secret):
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET", "may contain only A-Z, a-z, 0-9, _ and -")

    log_level = (_env(merged, "LOG_LEVEL") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError("LOG_LEVEL", f"must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")

    needs_secret = bool(token) or not database_url.startswith("sqlite")
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        pseudonym_secret=_secret(merged, data_dir, needs_secret),
        log_level=log_level,
        conversation_idle_hours=_float(merged, "CONVERSATION_IDLE_HOURS", 24.0),
        remind_imminent_seconds=_int(merged, "REMIND_IMMINENT_SECONDS", 60, minimum=10) or 60,
        remind_urgent_seconds=_int(merged, "REMIND_URGENT_SECONDS", 300, minimum=10) or 300,
        telegram_bot_token=token,
        telegram_staff_chat_id=staff_chat,
        telegram_api_url=_url(merged, "TELEGRAM_API_URL", DEFAULT_TELEGRAM_API_URL)
        or DEFAULT_TELEGRAM_API_URL,
        telegram_webhook_url=webhook_url,
        telegram_webhook_secret=webhook_secret,
        telegram_webhook_listen=_listen(merged, "TELEGRAM_WEBHOOK_LISTEN"),
        outbox_max_attempts=_int(merged, "OUTBOX_MAX_ATTEMPTS", 0, minimum=0) or 0,
        telegram_staff_language=_staff_language(merged),
    )


def _staff_language(environ: Mapping[str, str]) -> str:
    raw = (_env(environ, "TELEGRAM_STAFF_LANGUAGE") or "az").lower()
    if raw not in ("az", "ru", "en"):
        raise ConfigError("TELEGRAM_STAFF_LANGUAGE", f"must be az, ru or en, got {raw!r}")
    return raw
