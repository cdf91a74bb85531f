"""A local Telegram Bot API server for tests (real aiogram client over HTTP on 127.0.0.1).

See ``server.py`` for the server and ``fixtures.py`` for pytest fixture factories.
"""

from .fixtures import make_bot_fixture, make_server_fixture
from .formatting import EntityParseError, render
from .models import (
    ApiError,
    Call,
    CallbackAnswer,
    FloodLimits,
    StoredFile,
    StoredMessage,
    Topic,
    UserRecord,
    Violation,
    WebhookDelivery,
)
from .server import DEFAULT_STAFF_CHAT_ID, DEFAULT_TOKEN, NEWER_API_FIELDS, BotAPIServer, LocalSession
from .spec import SPEC_PATH, ApiSpec

__all__ = [
    "DEFAULT_STAFF_CHAT_ID",
    "DEFAULT_TOKEN",
    "NEWER_API_FIELDS",
    "SPEC_PATH",
    "ApiError",
    "ApiSpec",
    "BotAPIServer",
    "Call",
    "CallbackAnswer",
    "EntityParseError",
    "FloodLimits",
    "LocalSession",
    "StoredFile",
    "StoredMessage",
    "Topic",
    "UserRecord",
    "Violation",
    "WebhookDelivery",
    "make_bot_fixture",
    "make_server_fixture",
    "render",
]
