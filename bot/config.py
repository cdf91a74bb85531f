"""Settings: read once from the environment (and an optional .env file) into one typed object.

A missing or malformed setting raises :class:`ConfigError` naming the setting; the CLI turns it
into one clear line on stderr and exit code 2.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import ip_network
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
DEFAULT_MESSENGER_API_URL = "https://graph.facebook.com/v25.0"  # Graph API base with its version
MESSENGER_REQUIRED = ("MESSENGER_PAGE_TOKEN", "MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN")
MIN_SECRET = 16


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
    http_listen: tuple[str, int] = ("127.0.0.1", 8080)  # the one HTTP server (webhooks, health, metrics)
    http_listen_set: bool = False  # HTTP_LISTEN (or TELEGRAM_WEBHOOK_LISTEN) was given
    triage_label_days: int = 365  # counsellors' triage labels are kept this long
    telegram_pacing: bool = True  # keep to Telegram's flood limits (off only against a local test server)
    # web chat (bot/channels/webchat)
    webchat_allowed_origins: tuple[str, ...] = ()  # sites that may embed the chat; none: the chat is off
    webchat_max_chars: int = 2000  # characters of one message from the browser
    webchat_messages_per_minute: int = 20  # per session
    webchat_connections_per_address: int = 20  # open chat sockets per IP address
    webchat_session_hours: float = 168.0  # a session unused this long is forgotten by the browser's token
    webchat_trusted_proxies: tuple[str, ...] = ("127.0.0.0/8", "::1/128")  # X-Forwarded-For read from these
    # Rasa (bot/channels/rasa)
    rasa_url: str | None = None  # the Rasa server's HTTP API: counsellors' replies reach people through it
    rasa_token: str | None = None  # its auth token (rasa run --enable-api --auth-token ...)
    rasa_output_channel: str = "latest"  # the output channel trigger_intent answers on
    # --- Messenger and Instagram (one Meta app, one Facebook Page with its Instagram account) ---
    messenger_page_token: str | None = None  # the Page access token (sends on Messenger and Instagram)
    messenger_app_secret: str | None = None  # checks X-Hub-Signature-256 on every webhook request
    messenger_verify_token: str | None = None  # the webhook subscription handshake's hub.verify_token
    messenger_api_url: str = DEFAULT_MESSENGER_API_URL

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def webchat_enabled(self) -> bool:
        return bool(self.webchat_allowed_origins)

    @property
    def rasa_enabled(self) -> bool:
        return bool(self.rasa_url)

    @property
    def messenger_enabled(self) -> bool:
        return bool(self.messenger_page_token and self.messenger_app_secret and self.messenger_verify_token)

    @property
    def staff_channel(self) -> str:
        """Where the counsellors hear about cases: the Telegram staff chat, or the terminal console."""
        if self.telegram_enabled and self.telegram_staff_chat_id is not None:
            return "telegram"
        return "console"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"


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
        raise ConfigError(setting, "not a database URL (expected postgresql://... or sqlite:///...)")
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
    raise ConfigError(setting, f"unsupported database {scheme[:20]!r}: use postgresql:// or sqlite:///")


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


def _listen(environ: Mapping[str, str], name: str, default: str = "0.0.0.0:8080") -> tuple[str, int]:
    raw = _env(environ, name) or default
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(name, f"must look like HOST:PORT, got {raw!r}")
    return host, int(port)


def _secret(environ: Mapping[str, str], data_dir: Path, required: bool) -> str:
    raw = _env(environ, "PSEUDONYM_SECRET")
    if raw is not None:
        if len(raw) < MIN_SECRET:
            raise ConfigError(
                "PSEUDONYM_SECRET", f"must be at least {MIN_SECRET} characters (use a long random string)"
            )
        return raw
    if required:
        raise ConfigError(
            "PSEUDONYM_SECRET",
            "is required with Telegram, Messenger or PostgreSQL (a long random string; keep it: changing it "
            "makes every person new)",
        )
    # Local terminal use: keep a generated secret beside the SQLite file, readable by the owner only.
    path = data_dir / "pseudonym.secret"
    if path.exists():
        value = path.read_text().strip()
        if len(value) < MIN_SECRET:
            raise ConfigError(
                "PSEUDONYM_SECRET",
                f"the secret in {path} is shorter than {MIN_SECRET} characters: put a long random string "
                "there (or delete the file only if the database is new: every person would become new)",
            )
        return value
    data_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
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

    messenger = _messenger(merged)
    needs_secret = bool(token) or bool(messenger) or not database_url.startswith("sqlite")
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
        http_listen=_listen(
            merged,
            "HTTP_LISTEN" if _env(merged, "HTTP_LISTEN") else "TELEGRAM_WEBHOOK_LISTEN",
            "127.0.0.1:8080",
        ),
        http_listen_set=bool(_env(merged, "HTTP_LISTEN") or _env(merged, "TELEGRAM_WEBHOOK_LISTEN")),
        triage_label_days=_int(merged, "TRIAGE_LABEL_DAYS", 365, minimum=1) or 365,
        telegram_pacing=_pacing(merged),
        outbox_max_attempts=_int(merged, "OUTBOX_MAX_ATTEMPTS", 0, minimum=0) or 0,
        telegram_staff_language=_staff_language(merged),
        **_webchat(merged),
        **_rasa(merged),
        **messenger,
    )


# --- Rasa (bot/channels/rasa) ---
def _rasa(environ: Mapping[str, str]) -> dict[str, str | None]:
    """RASA_URL and RASA_TOKEN come together (Rasa's HTTP API must not run without a token)."""
    url = _url(environ, "RASA_URL", None)
    token = _env(environ, "RASA_TOKEN")
    output = _env(environ, "RASA_OUTPUT_CHANNEL") or "latest"
    if token and not url:
        raise ConfigError("RASA_URL", "is required with RASA_TOKEN (the Rasa server's address)")
    if url and not token:
        raise ConfigError(
            "RASA_TOKEN", "is required with RASA_URL (the token of rasa run --enable-api --auth-token)"
        )
    if not all(c.isalnum() or c in "_-." for c in output):
        raise ConfigError("RASA_OUTPUT_CHANNEL", f"must be a channel name such as latest, got {output!r}")
    return {"rasa_url": url, "rasa_token": token, "rasa_output_channel": output}


def _messenger(environ: Mapping[str, str]) -> dict[str, str]:
    """The Messenger/Instagram settings: none, or all three secrets (a partial set is an error)."""
    given = {name: _env(environ, name) for name in MESSENGER_REQUIRED}
    api_url = _url(environ, "MESSENGER_API_URL", None)
    if not any(given.values()):
        return {}
    for name, value in given.items():
        if value is None:
            others = ", ".join(n for n, v in given.items() if v)
            raise ConfigError(
                name, f"is required with {others} (Messenger needs all three, see .env.example)"
            )
    verify = given["MESSENGER_VERIFY_TOKEN"] or ""
    if not verify.isprintable() or " " in verify:
        raise ConfigError("MESSENGER_VERIFY_TOKEN", "must be one word without spaces or control characters")
    return {
        "messenger_page_token": given["MESSENGER_PAGE_TOKEN"] or "",
        "messenger_app_secret": given["MESSENGER_APP_SECRET"] or "",
        "messenger_verify_token": verify,
        "messenger_api_url": api_url or DEFAULT_MESSENGER_API_URL,
    }


def _pacing(environ: Mapping[str, str]) -> bool:
    raw = (_env(environ, "TELEGRAM_PACING") or "telegram").lower()
    if raw not in ("telegram", "off"):
        raise ConfigError("TELEGRAM_PACING", f"must be telegram or off, got {raw!r}")
    return raw == "telegram"


def _staff_language(environ: Mapping[str, str]) -> str:
    raw = (_env(environ, "TELEGRAM_STAFF_LANGUAGE") or "az").lower()
    if raw not in ("az", "ru", "en"):
        raise ConfigError("TELEGRAM_STAFF_LANGUAGE", f"must be az, ru or en, got {raw!r}")
    return raw


# ---- web chat (bot/channels/webchat) ----------------------------------------------------------
WEBCHAT_LIMITS = (
    "WEBCHAT_MAX_MESSAGE_CHARS",
    "WEBCHAT_MESSAGES_PER_MINUTE",
    "WEBCHAT_CONNECTIONS_PER_ADDRESS",
    "WEBCHAT_SESSION_HOURS",
    "WEBCHAT_TRUSTED_PROXIES",
)


def _origins(environ: Mapping[str, str]) -> tuple[str, ...]:
    raw = _env(environ, "WEBCHAT_ALLOWED_ORIGINS")
    if raw is None:
        return ()
    origins: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        parts = urlsplit(item)
        bare = parts.scheme in ("http", "https") and parts.hostname and parts.path in ("", "/")
        if not bare or parts.query or parts.fragment or parts.username:
            raise ConfigError(
                "WEBCHAT_ALLOWED_ORIGINS",
                f"each entry must be an origin such as https://www.example.org (no path), got {item!r}",
            )
        origin = f"{parts.scheme}://{parts.netloc.lower()}"
        if origin not in origins:
            origins.append(origin)
    if not origins:
        raise ConfigError("WEBCHAT_ALLOWED_ORIGINS", "lists no origin")
    return tuple(origins)


def _networks(environ: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = _env(environ, name)
    if raw is None:
        return default
    found: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            found.append(str(ip_network(item, strict=False)))
        except ValueError:
            raise ConfigError(name, f"must be IP addresses or networks (10.0.0.0/8), got {item!r}") from None
    return tuple(found)


def _webchat(environ: Mapping[str, str]) -> dict[str, object]:
    origins = _origins(environ)
    given = [name for name in WEBCHAT_LIMITS if _env(environ, name) is not None]
    if given and not origins:
        raise ConfigError(
            "WEBCHAT_ALLOWED_ORIGINS", f"is required with {given[0]} (it turns the web chat on)"
        )
    defaults = Settings("", Path(), "")
    return {
        "webchat_allowed_origins": origins,
        "webchat_max_chars": _int(
            environ, "WEBCHAT_MAX_MESSAGE_CHARS", defaults.webchat_max_chars, minimum=1
        ),
        "webchat_messages_per_minute": _int(
            environ, "WEBCHAT_MESSAGES_PER_MINUTE", defaults.webchat_messages_per_minute, minimum=1
        ),
        "webchat_connections_per_address": _int(
            environ, "WEBCHAT_CONNECTIONS_PER_ADDRESS", defaults.webchat_connections_per_address, minimum=1
        ),
        "webchat_session_hours": _float(environ, "WEBCHAT_SESSION_HOURS", defaults.webchat_session_hours),
        "webchat_trusted_proxies": _networks(
            environ, "WEBCHAT_TRUSTED_PROXIES", defaults.webchat_trusted_proxies
        ),
    }
