"""A local Telegram Bot API server for tests (real aiogram client over HTTP on 127.0.0.1).

See ``server.py`` for the server and ``fixtures.py`` for pytest fixtures.
"""

from .fixtures import botapi_bot, botapi_server, make_bot_fixture, make_server_fixture
from .formatting import EntityParseError, render
from .models import (
    ApiError,
    Call,
    CallbackAnswer,
    FloodLimits,
    SentMessage,
    StoredFile,
    StoredMessage,
    Topic,
    UserRecord,
    Violation,
    WebhookDelivery,
)
from .server import (
    DEFAULT_STAFF_CHAT_ID,
    DEFAULT_TOKEN,
    NEWER_API_FIELDS,
    BotAPIServer,
    LocalSession,
    is_sending_method,
)
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
    "SentMessage",
    "StoredFile",
    "StoredMessage",
    "Topic",
    "UserRecord",
    "Violation",
    "WebhookDelivery",
    "botapi_bot",
    "botapi_server",
    "is_sending_method",
    "make_bot_fixture",
    "make_server_fixture",
    "render",
]
