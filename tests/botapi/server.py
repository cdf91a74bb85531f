"""A local Telegram Bot API server for tests.

The real aiogram client talks to it over HTTP on 127.0.0.1 (``TelegramAPIServer.from_base(server.base_url)``).
Every call is checked against the official Bot API specification (``../shared/telegram-bot-api/api.json``);
calls the real Telegram would reject as malformed are answered like Telegram answers them *and* recorded in
``server.violations``. The server simulates the parts of Telegram the helpline bot uses: private chats with
users, one staff supergroup (optionally a forum with topics), text messages (parse_mode HTML or none),
media people send (copied by the bot), inline keyboards and callback queries, long polling and webhooks,
and Telegram's failure modes (429 flood control, 5xx, a server that is down, topics deleted by a human).

Only the Bot API methods the bot calls are simulated (see ``BotAPIServer._handlers``). An unknown method
is answered 404 like Telegram; a real method this server does not simulate is answered 500 and kept in
``internal_errors``, so ``assert_no_violations`` fails and says which method to add.

Typical use::

    async with BotAPIServer(staff_members={501: "administrator"}) as server:
        bot = server.make_bot()
        server.user_sends_text(42, "salam")
        ...                                   # run the bot's polling loop
        [reply] = await server.wait_for_sent(chat_id=42)
        assert server.violations == []

``wait_for_sent`` looks at the calls made since the last update the test enqueued, so a reply that
arrived before the test started waiting is still found.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import itertools
import json
import math
import re
import secrets
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import ClientSession, ClientTimeout, web

from .formatting import EntityParseError, Rendered, render
from .models import (
    CONTENT_KEYS,
    ApiError,
    Call,
    CallbackAnswer,
    FloodLimits,
    PendingCallback,
    StoredFile,
    StoredMessage,
    Topic,
    UserRecord,
    Violation,
    WebhookDelivery,
    bad_request,
)
from .spec import ApiSpec

DEFAULT_TOKEN = "123456789:AAHn0tAReALt0kEnForTeStS0nLy1234567"
DEFAULT_STAFF_CHAT_ID = -1001000000001
TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
_PRESENT_STATUSES = ("creator", "administrator", "member", "restricted")
_MEDIA_KINDS = ("photo", "voice", "document", "sticker", "audio", "video", "animation", "video_note")
_FILE_PREFIX = {"photo": "AgAC", "voice": "AwAC", "sticker": "CAAC"}
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
_DEFAULT_ERRORS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: injected failure",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
# Fields newer than the spec's Bot API version that the installed aiogram requires in answers
# (the real Telegram, being newer, sends them). type -> fields; values for an administrator.
NEWER_API_FIELDS: dict[str, dict[str, Any]] = {
    "ChatMemberAdministrator": {"can_send_welcome_messages": True},
}
# The simulated methods that post a message into a chat (those Telegram's flood control counts).
SENDING_METHODS = frozenset({"sendMessage", "copyMessage"})


class _Signal:
    """Wakes every waiter on ``notify``."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            pass


@dataclass
class _Queued:
    update: dict[str, Any]
    delivered: bool = False


@dataclass
class _Fault:
    method: str  # canonical method name or "*"
    remaining: int
    status: int
    description: str
    parameters: dict[str, Any] | None = None


@dataclass
class _RateLimit:
    remaining: int
    retry_after: int
    chat_id: int | str | None


class LocalSession(AiohttpSession):
    """aiogram's AiohttpSession; ``close`` skips the 250 ms grace period meant for TLS connections."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class BotAPIServer:
    """Simulated Telegram Bot API; see the module docstring."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_first_name: str = "Helpline Test Bot",
        bot_username: str = "helpline_test_bot",
        staff_chat_id: int = DEFAULT_STAFF_CHAT_ID,
        staff_chat_title: str = "Helpline staff",
        staff_forum: bool = True,
        staff_members: Mapping[int, str] | Iterable[int] = (),
        enforce_limits: bool = False,
        limits: FloodLimits | None = None,
        max_poll_timeout: float = 1.0,
        webhook_retry_delay: float = 0.2,
        first_update_id: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.spec = ApiSpec.load()
        self.token = token
        self.bot_user = UserRecord(
            id=int(token.split(":", 1)[0]), first_name=bot_first_name, username=bot_username, is_bot=True
        )
        self.staff_chat_id = staff_chat_id
        self.staff_chat_title = staff_chat_title
        self.staff_forum = staff_forum  # the bot is an administrator of the staff chat
        self.enforce_limits = enforce_limits
        self.limits = limits or FloodLimits()
        self.max_poll_timeout = max_poll_timeout
        self.webhook_retry_delay = webhook_retry_delay
        self.clock = clock
        self.host, self.port = host, port

        # simulated Telegram state
        self.users: dict[int, UserRecord] = {}
        self.members: dict[int, str] = {}
        for user_id, status in (
            staff_members.items()
            if isinstance(staff_members, Mapping)
            else ((u, "member") for u in staff_members)
        ):
            self.set_member(user_id, status)
        self.topics: dict[int, Topic] = {}
        self.webhook: dict[str, Any] | None = None
        self.allowed_updates: frozenset[str] | None = None  # None: Telegram's default set
        self._chats: dict[int, dict[int, StoredMessage]] = {}
        self._last_message_id: dict[int, int] = {}
        self._all_messages: list[StoredMessage] = []
        self._updates: list[_Queued] = []
        self._next_update_id = first_update_id
        self._callbacks: dict[str, PendingCallback] = {}
        self._ids = itertools.count(1)

        # what the tests inspect
        self.calls: list[Call] = []
        self.violations: list[Violation] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.flood_rejections: list[tuple[int, int]] = []  # (chat_id, retry_after)
        self.internal_errors: list[tuple[Call, BaseException]] = []  # bugs and gaps of this fake server
        self.send_times: dict[int, list[float]] = {}
        self._recent_sends: deque[float] = deque()  # all chats, last second

        # fault injection and flood control
        self._faults: list[_Fault] = []
        self._rate_limits: list[_RateLimit] = []
        self._down: str | None = None
        self._buckets: dict[int, tuple[float, float]] = {}

        # plumbing
        self._mark = 0
        self._poll_generation = 0
        self._closing = False
        self._update_signal = _Signal()
        self._call_signal = _Signal()
        self._runner: web.AppRunner | None = None
        self._http: ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self.base_url = ""
        self._handlers: dict[str, Callable[[dict[str, Any], Call], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "sendMessage": self._send_message,
            "copyMessage": self._copy_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "setMyCommands": self._set_my_commands,
            "createForumTopic": self._create_forum_topic,
            "editForumTopic": self._edit_forum_topic,
            "closeForumTopic": self._close_forum_topic,
            "reopenForumTopic": self._reopen_forum_topic,
        }

    # ------------------------------------------------------------------------------------ lifecycle

    async def start(self) -> BotAPIServer:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.base_url = f"http://{self.host}:{self.port}"
        return self

    async def stop(self) -> None:
        self._closing = True
        self._update_signal.notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            await asyncio.gather(self._webhook_task, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> BotAPIServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def api(self) -> TelegramAPIServer:
        """aiogram's server config pointing at this server."""
        return TelegramAPIServer.from_base(self.base_url)

    def make_bot(self, token: str | None = None, **bot_kwargs: Any) -> Bot:
        """A real aiogram ``Bot`` talking to this server (close it with ``await bot.session.close()``)."""
        return Bot(token or self.token, session=LocalSession(api=self.api), **bot_kwargs)

    # ----------------------------------------------------------------------------------------- HTTP

    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if self._down is not None:
            return self._answer_down(request, method)
        try:
            raw = await self._read_request(request)
        except ValueError:
            call = self._new_call(method, {})
            error = bad_request("can't parse request body", violation=True)
            self._finish(call, error.code, error.payload(), error)
            return web.json_response(call.response, status=call.status)
        call = await self._execute(method, raw, request.match_info["token"])
        return web.json_response(call.response, status=call.status)

    def _answer_down(self, request: web.Request, method: str) -> web.StreamResponse:
        call = self._new_call(method, {})
        if self._down == "close":
            self._finish(call, 0, {"ok": False, "description": "connection closed"})
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=502)
        body = {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        self._finish(call, 502, body)
        if self._down == "html":
            return web.Response(
                status=502,
                text="<html><body><h1>502 Bad Gateway</h1></body></html>",
                content_type="text/html",
            )
        return web.json_response(body, status=502)

    @staticmethod
    async def _read_request(request: web.Request) -> dict[str, Any]:
        """Parameters from the query, a JSON body or a form (file uploads are not simulated)."""
        params: dict[str, Any] = dict(request.query)
        if not request.body_exists:
            return params
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            params.update(body)
            return params
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                raise ValueError("file uploads are not simulated")
            params[key] = bytes(value).decode("utf-8") if isinstance(value, bytes | bytearray) else value
        return params

    def _new_call(self, method: str, params: dict[str, Any]) -> Call:
        return Call(seq=-1, method=method, params=params, at=self.clock())  # seq: set by _finish

    def _finish(
        self, call: Call, status: int, response: dict[str, Any], error: ApiError | None = None
    ) -> Call:
        call.status, call.response = status, response
        if error is not None and error.violation:
            self.violations.append(Violation(call.method, error.description, call.raw, error.problems))
        call.seq = len(self.calls)
        self.calls.append(call)
        self._call_signal.notify()
        return call

    async def _execute(self, method: str, raw: dict[str, Any], token: str) -> Call:
        call = self._new_call(method, raw)
        call.raw = raw
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized", violation=True)
            canonical = self.spec.canonical(method)
            if canonical is None:
                raise ApiError(404, "Not Found: method not found", violation=True)
            call.method = canonical
            decoded = self.spec.decode_call(canonical, raw)
            call.params = decoded.params
            if decoded.problems:
                raise ApiError(
                    400,
                    f"Bad Request: {decoded.problems[0]}",
                    violation=True,
                    problems=[f"Bad Request: {p}" for p in decoded.problems],
                )
            self._inject_faults(canonical, call.params)
            self._check_flood(canonical, call.params)
            handler = self._handlers.get(canonical)
            if handler is None:
                raise NotImplementedError(f"{canonical} is not simulated by this server")
            result = handler(call.params, call)
            if inspect.isawaitable(result):
                result = await result
            if canonical in SENDING_METHODS and call.message is not None:
                self._record_send(call.message.chat_id)
        except ApiError as error:
            return self._finish(call, error.code, error.payload(), error)
        except Exception as exc:  # a bug or gap of the fake server: answer like Telegram's 500 and keep it
            self.internal_errors.append((call, exc))
            error = ApiError(500, f"Internal Server Error: {type(exc).__name__}: {exc}")
            return self._finish(call, error.code, error.payload(), error)
        return self._finish(call, 200, {"ok": True, "result": result})

    # ------------------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        n: int = 1,
        status: int = 500,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next ``n`` calls of ``method`` (``"*"``: any method but getUpdates) with an error."""
        name = method if method == "*" else self.spec.canonical(method)
        if name is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None and status == 429:
            description = f"Too Many Requests: retry after {retry_after}"
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        description = description or _DEFAULT_ERRORS.get(status, f"Error {status}")
        self._faults.append(_Fault(name, n, status, description, parameters))

    def rate_limit(self, n_calls: int, retry_after: int = 1, chat_id: int | str | None = None) -> None:
        """Answer the next ``n_calls`` message-sending calls (to ``chat_id`` if given) with 429."""
        self._rate_limits.append(_RateLimit(n_calls, retry_after, chat_id))

    def set_down(self, down: bool = True, mode: str = "502") -> None:
        """Simulate Telegram being unreachable: ``mode`` "502" (JSON 502), "html" (nginx page) or "close"."""
        if mode not in ("502", "html", "close"):
            raise ValueError("mode must be '502', 'html' or 'close'")
        self._down = mode if down else None

    @staticmethod
    def _too_many(retry_after: int) -> ApiError:
        return ApiError(
            429, f"Too Many Requests: retry after {retry_after}", parameters={"retry_after": retry_after}
        )

    def _inject_faults(self, method: str, params: Mapping[str, Any]) -> None:
        for fault in self._faults:
            if fault.remaining > 0 and (
                fault.method == method or (fault.method == "*" and method != "getUpdates")
            ):
                fault.remaining -= 1
                raise ApiError(fault.status, fault.description, parameters=fault.parameters)
        for limit in self._rate_limits:
            if limit.remaining <= 0:
                continue
            chat_matches = limit.chat_id is None or str(params.get("chat_id")) == str(limit.chat_id)
            if method in SENDING_METHODS and chat_matches:
                limit.remaining -= 1
                raise self._too_many(limit.retry_after)

    # -------------------------------------------------------------------------------- flood control

    def _bucket_tokens(self, chat_id: int, now: float) -> float:
        tokens, last = self._buckets.get(chat_id, (float(self.limits.private_burst), now))
        return min(float(self.limits.private_burst), tokens + (now - last) * self.limits.private_per_second)

    def _check_flood(self, method: str, params: Mapping[str, Any]) -> None:
        chat_id = params.get("chat_id")
        if not self.enforce_limits or method not in SENDING_METHODS or not isinstance(chat_id, int):
            return
        now, limits = self.clock(), self.limits
        wait = 0.0
        self._forget_old_sends(now)
        if len(self._recent_sends) >= limits.global_per_second:
            wait = self._recent_sends[0] + 1.0 - now
        if chat_id < 0:
            in_minute = [t for t in self.send_times.get(chat_id, []) if t > now - 60.0]
            if len(in_minute) >= limits.group_per_minute:
                wait = max(wait, in_minute[0] + 60.0 - now)
        else:
            tokens = self._bucket_tokens(chat_id, now)
            if tokens < 1.0:
                wait = max(wait, (1.0 - tokens) / limits.private_per_second)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            self.flood_rejections.append((chat_id, retry_after))
            raise self._too_many(retry_after)

    def _forget_old_sends(self, now: float) -> None:
        while self._recent_sends and self._recent_sends[0] <= now - 1.0:
            self._recent_sends.popleft()

    def _record_send(self, chat_id: int) -> None:
        now = self.clock()
        self.send_times.setdefault(chat_id, []).append(now)
        self._recent_sends.append(now)
        self._forget_old_sends(now)
        if chat_id > 0:
            self._buckets[chat_id] = (self._bucket_tokens(chat_id, now) - 1.0, now)

    def max_in_window(self, chat_id: int | None = None, window: float = 1.0) -> int:
        """Most messages sent within any ``window`` seconds (to ``chat_id``, or to all chats)."""
        if chat_id is None:
            times = sorted(t for ts in self.send_times.values() for t in ts)
        else:
            times = self.send_times.get(chat_id, [])
        best, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    @property
    def max_rate_observed(self) -> dict[int, int]:
        """Per chat: the most messages the bot sent within any one second."""
        return {chat_id: self.max_in_window(chat_id) for chat_id in self.send_times}

    # ----------------------------------------------------------------------------------- chats/users

    def add_user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "az",
        started: bool = True,
    ) -> UserRecord:
        """Create (or update) a Telegram user; ``started`` means they have a private chat with the bot."""
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = UserRecord(user_id, first_name)
        user.first_name, user.last_name, user.username = first_name, last_name, username
        user.language_code = language_code
        user.started = user.started or started
        return user

    def set_member(self, user_id: int, status: str) -> None:
        """Set a user's status in the staff chat (see ``MEMBER_STATUSES``)."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"status must be one of {MEMBER_STATUSES}")
        self.members[user_id] = status
        if user_id not in self.users:
            self.users[user_id] = UserRecord(user_id, f"Staff {user_id}", language_code="az")

    def _chat_dict(self, chat_id: int) -> dict[str, Any]:
        if chat_id == self.staff_chat_id:
            chat: dict[str, Any] = {"id": chat_id, "type": "supergroup", "title": self.staff_chat_title}
            if self.staff_forum:
                chat["is_forum"] = True
            return chat
        return self.users[chat_id].private_chat()

    def _resolve_chat(self, chat_id: int | str, *, sending: bool = False) -> int:
        if isinstance(chat_id, str):
            name = chat_id.removeprefix("@").lower()
            found = [
                u.id for u in self.users.values() if u.username and u.username.lower() == name and u.started
            ]
            if not found:
                raise bad_request("chat not found")
            chat_id = found[0]
        if chat_id == self.staff_chat_id:
            return chat_id
        user = self.users.get(chat_id)
        if user is None or user.is_bot:
            raise bad_request("chat not found")
        if not user.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if sending and user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    # ------------------------------------------------------------------------------------- messages

    def _store(
        self,
        chat_id: int,
        data: dict[str, Any],
        *,
        from_bot: bool,
        method: str | None = None,
    ) -> StoredMessage:
        stored = StoredMessage(
            chat_id=chat_id,
            message_id=data["message_id"],
            data=data,
            from_bot=from_bot,
            method=method,
            thread_id=data.get("message_thread_id"),
        )
        self._chats.setdefault(chat_id, {})[stored.message_id] = stored
        self._all_messages.append(stored)
        return stored

    def _new_message(self, chat_id: int, sender: dict[str, Any], thread_id: int | None) -> dict[str, Any]:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        data: dict[str, Any] = {"message_id": message_id}
        if thread_id is not None:
            data["message_thread_id"] = thread_id
        data.update({"from": sender, "chat": self._chat_dict(chat_id), "date": int(time.time())})
        if thread_id is not None:
            data["is_topic_message"] = True
        return data

    def _live(self, chat_id: int, message_id: int) -> StoredMessage | None:
        stored = self._chats.get(chat_id, {}).get(message_id)
        return None if stored is None or stored.deleted else stored

    @staticmethod
    def _as_reply(stored: StoredMessage) -> dict[str, Any]:
        """A message as it appears in ``reply_to_message`` (Telegram does not nest replies further)."""
        data = copy.deepcopy(stored.data)
        data.pop("reply_to_message", None)
        return data

    def _topic_root(self, thread_id: int) -> dict[str, Any] | None:
        root = self._chats.get(self.staff_chat_id, {}).get(thread_id)
        return self._as_reply(root) if root is not None else None

    def _thread_for_send(self, chat_id: int, thread_id: int | None) -> int | None:
        if thread_id is None:
            return None
        topic = self.topics.get(thread_id) if chat_id == self.staff_chat_id and self.staff_forum else None
        if topic is None or topic.deleted:
            raise bad_request("message thread not found")
        return thread_id  # a closed topic too: the bot is an administrator

    def _reply_target(self, chat_id: int, params: Mapping[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters")
        if reply is None and "reply_to_message_id" in params:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        if not reply:
            return None
        if str(reply.get("chat_id", chat_id)) != str(chat_id):
            return None  # a reply to another chat becomes an external_reply: not simulated
        target = self._live(chat_id, int(reply["message_id"]))
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return self._as_reply(target)

    def _bot_message(self, call: Call, params: dict[str, Any], content: dict[str, Any]) -> StoredMessage:
        """Post ``content`` from the bot into ``params["chat_id"]`` (the common part of all sends)."""
        chat_id = self._resolve_chat(params["chat_id"], sending=True)
        thread_id = self._thread_for_send(chat_id, params.get("message_thread_id"))
        reply_to = self._reply_target(chat_id, params)
        data = self._new_message(chat_id, self.bot_user.to_dict(), thread_id)
        data.update(content)
        if reply_to is None and thread_id is not None:
            reply_to = self._topic_root(thread_id)
        if reply_to is not None:
            data["reply_to_message"] = reply_to
        if params.get("protect_content"):
            data["has_protected_content"] = True
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            data["reply_markup"] = markup
        call.message = self._store(chat_id, data, from_bot=True, method=call.method)
        return call.message

    @staticmethod
    def _render(text: str | None, parse_mode: str | None, entities: Any, *, caption: bool) -> Rendered:
        try:
            rendered = render(text or "", parse_mode, entities)
        except (EntityParseError, ValueError) as exc:
            raise ApiError(400, str(exc), violation=True) from exc
        if caption:
            if len(rendered.text) > 1024:
                raise bad_request("message caption is too long", violation=True)
        elif not rendered.text:
            raise bad_request("message text is empty", violation=True)
        elif len(rendered.text) > 4096:
            raise bad_request("message is too long", violation=True)
        return rendered

    def _text_content(self, params: Mapping[str, Any]) -> dict[str, Any]:
        rendered = self._render(
            params.get("text"), params.get("parse_mode"), params.get("entities"), caption=False
        )
        content: dict[str, Any] = {"text": rendered.text}
        if rendered.entities:
            content["entities"] = rendered.entities
        return content

    def _caption_content(self, params: Mapping[str, Any]) -> dict[str, Any]:
        rendered = self._render(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities"), caption=True
        )
        content: dict[str, Any] = {}
        if rendered.text:
            content["caption"] = rendered.text
            if rendered.entities:
                content["caption_entities"] = rendered.entities
        return content

    # ---------------------------------------------------------------------------------------- files

    def register_file(self, kind: str, *, duration: int = 3, emoji: str | None = None) -> StoredFile:
        """A photo, voice or sticker Telegram knows (as if someone had sent it), with its file_id."""
        if kind not in _FILE_PREFIX:
            raise ValueError(f"files of kind {kind!r} are not simulated")
        n = next(self._ids)
        file_id = f"{_FILE_PREFIX[kind]}AgIAAxkBAAI{n:06d}{secrets.token_hex(8)}"
        unique_id = f"AQAD{n:06d}{secrets.token_hex(3)}"
        base = {"file_id": file_id, "file_unique_id": unique_id, "file_size": 1000 + n}
        obj: Any
        if kind == "photo":
            obj = [{**base, "width": 1280, "height": 960}]
        elif kind == "voice":
            obj = {**base, "duration": duration, "mime_type": "audio/ogg"}
        else:
            obj = {**base, "type": "regular", "width": 512, "height": 512}
            obj.update(is_animated=False, is_video=False)
            if emoji:
                obj["emoji"] = emoji
        return StoredFile(file_id, kind, obj)

    # -------------------------------------------------------------------------------- API: updates

    def _default_allowed(self) -> frozenset[str]:
        return self.spec.update_types - {"chat_member", "message_reaction", "message_reaction_count"}

    def _enqueue(self, payload: dict[str, Any], *, update_id: int | None = None) -> dict[str, Any]:
        if update_id is None:
            update_id = self._next_update_id
            self._next_update_id += 1
        update = {"update_id": update_id, **payload}
        self._mark = len(self.calls)
        kind = next((key for key in update if key != "update_id"), None)
        if kind is not None and kind not in (self.allowed_updates or self._default_allowed()):
            return update  # dropped, as Telegram drops updates the bot did not ask for
        self._updates.append(_Queued(update))
        self._update_signal.notify()
        return update

    def _confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        before = len(self._updates)
        if offset < 0:
            self._updates = self._updates[offset:]
        else:
            self._updates = [
                q for q in self._updates if not (q.delivered and q.update.get("update_id", 0) < offset)
            ]
        if len(self._updates) != before:
            self._update_signal.notify()

    async def _get_updates(self, params: dict[str, Any], call: Call) -> list[dict[str, Any]]:
        if self.webhook:
            raise ApiError(409, _CONFLICT_WEBHOOK)
        if "allowed_updates" in params:
            self.allowed_updates = frozenset(params["allowed_updates"]) or None
        self._confirm(params.get("offset"))
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = min(max(float(params.get("timeout", 0)), 0.0), self.max_poll_timeout)
        self._poll_generation += 1
        generation = self._poll_generation
        self._update_signal.notify()  # an older long poll ends with 409, as on Telegram
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, _CONFLICT_POLL)
            if self.webhook:
                raise ApiError(409, _CONFLICT_WEBHOOK)
            batch = self._updates[:limit]
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                for queued in batch:
                    queued.delivered = True
                return [copy.deepcopy(queued.update) for queued in batch]
            await self._update_signal.wait(remaining)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (getUpdates offset) nor accepted by its webhook."""
        return [q.update for q in self._updates]

    def _set_webhook(self, params: dict[str, Any], call: Call) -> bool:
        url = params.get("url", "")
        if url and not re.match(r"https://|http://(127\.0\.0\.1|localhost)[:/]", url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook", violation=True)
        if not url:  # "use an empty string to remove webhook integration"
            return self._delete_webhook(params, call)
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if "allowed_updates" in params:
            self.allowed_updates = frozenset(params["allowed_updates"]) or None
        self.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "max_connections": params.get("max_connections", 40),
        }
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._webhook_loop())
        self._update_signal.notify()  # a pending getUpdates now ends with 409
        return True

    def _delete_webhook(self, params: dict[str, Any], call: Call) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._update_signal.notify()
        return True

    async def _client(self) -> ClientSession:
        if self._http is None or self._http.closed:
            self._http = ClientSession(timeout=ClientTimeout(total=10))
        return self._http

    async def _webhook_loop(self) -> None:
        while self.webhook and not self._closing:
            if not self._updates:
                await self._update_signal.wait(1.0)
                continue
            queued, hook = self._updates[0], self.webhook
            delivery = await self._deliver(hook["url"], queued.update, hook.get("secret_token"))
            if 200 <= delivery.status < 300:
                if queued in self._updates:
                    self._updates.remove(queued)
                self._update_signal.notify()
            else:
                await asyncio.sleep(self.webhook_retry_delay)

    async def post_update_to(
        self, url: str, update: dict[str, Any], secret_token: str | None = None
    ) -> WebhookDelivery:
        """Push ``update`` to a bot's webhook as Telegram does (taking it out of the getUpdates queue)."""
        self._updates = [q for q in self._updates if q.update != update]
        return await self._deliver(url, update, secret_token)

    async def _deliver(self, url: str, update: dict[str, Any], secret_token: str | None) -> WebhookDelivery:
        """One POST of an update; a method call in the webhook's answer is not executed (not simulated)."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        session = await self._client()
        try:
            async with session.post(url, json=update, headers=headers) as response:
                return WebhookDelivery(status=response.status, body=await response.text())
        except Exception as exc:  # any failure is a failed delivery, as for Telegram
            return WebhookDelivery(status=0, body=f"{type(exc).__name__}: {exc}")

    # ---------------------------------------------------------------------------- API: the methods

    def _get_me(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        return {
            **self.bot_user.to_dict(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _send_message(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        return copy.deepcopy(self._bot_message(call, params, self._text_content(params)).data)

    def _copy_message(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        source = self._live(self._resolve_chat(params["from_chat_id"]), params["message_id"])
        if source is None:
            raise bad_request("message to copy not found")
        content = {key: copy.deepcopy(source.data[key]) for key in CONTENT_KEYS if key in source.data}
        if not content:
            raise bad_request("message can't be copied")
        has_media = any(kind in content for kind in _MEDIA_KINDS if kind != "sticker")
        if has_media and "caption" in params:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(self._caption_content(params))
        stored = self._bot_message(call, params, content)
        stored.copied_from = (source.chat_id, source.message_id)
        return {"message_id": stored.message_id}

    def _edit_target(self, params: Mapping[str, Any]) -> StoredMessage:
        if "inline_message_id" in params:
            raise bad_request("MESSAGE_ID_INVALID: inline messages are not simulated")
        if "chat_id" not in params or "message_id" not in params:
            raise bad_request("message identifier is not specified", violation=True)
        target = self._live(self._resolve_chat(params["chat_id"]), params["message_id"])
        if target is None:
            raise bad_request("message to edit not found")
        if not target.from_bot:
            raise bad_request("message can't be edited")
        return target

    def _apply_edit(
        self, target: StoredMessage, call: Call, changes: dict[str, Any], removed: Iterable[str]
    ) -> dict[str, Any]:
        new = {key: value for key, value in target.data.items() if key not in removed and key != "edit_date"}
        new.update(changes)
        if new == {k: v for k, v in target.data.items() if k != "edit_date"}:
            raise bad_request(_NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        target.history.append(target.data)
        target.data = new
        call.message = target
        return copy.deepcopy(new)

    @staticmethod
    def _markup_change(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """An edit without reply_markup removes the inline keyboard, as on Telegram."""
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            return {"reply_markup": markup}, []
        return {}, ["reply_markup"]

    def _edit_message_text(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        target = self._edit_target(params)
        if "text" not in target.data:
            raise bad_request("there is no text in the message to edit")
        changes, removed = self._markup_change(params)
        changes.update(self._text_content(params))
        if "entities" not in changes:
            removed.append("entities")
        return self._apply_edit(target, call, changes, removed)

    def _edit_message_caption(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        target = self._edit_target(params)
        if "text" in target.data:
            raise bad_request("there is no caption in the message to edit")
        changes, removed = self._markup_change(params)
        changes.update(self._caption_content(params))
        removed.extend(key for key in ("caption", "caption_entities") if key not in changes)
        return self._apply_edit(target, call, changes, removed)

    def _edit_message_reply_markup(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        target = self._edit_target(params)
        changes, removed = self._markup_change(params)
        return self._apply_edit(target, call, changes, removed)

    def _delete_message(self, params: dict[str, Any], call: Call) -> bool:
        target = self._live(self._resolve_chat(params["chat_id"]), params["message_id"])
        if target is None:
            raise bad_request("message to delete not found")
        target.deleted = True
        return True

    def _delete_messages(self, params: dict[str, Any], call: Call) -> bool:
        """Like Telegram: messages that can't be found are skipped."""
        ids = params["message_ids"]
        if isinstance(ids, str):
            ids = json.loads(ids)
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must be a list of 1-100 message identifiers")
        chat = self._resolve_chat(params["chat_id"])
        for message_id in ids:
            target = self._live(chat, message_id)
            if target is not None:
                target.deleted = True
        return True

    def _answer_callback_query(self, params: dict[str, Any], call: Call) -> bool:
        pending = self._callbacks.get(str(params["callback_query_id"]))
        if pending is None or pending.answered:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        pending.answered = True
        self.callback_answers.append(
            CallbackAnswer(
                callback_query_id=pending.query_id,
                user_id=pending.user_id,
                chat_id=pending.chat_id,
                message_id=pending.message_id,
                data=pending.data,
                text=params.get("text"),
                show_alert=bool(params.get("show_alert", False)),
            )
        )
        return True

    def _get_chat(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        chat_id = self._resolve_chat(params["chat_id"])
        return self._chat_dict(chat_id) | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _member(self, user_id: int, status: str) -> dict[str, Any]:
        """A ChatMember object of the given status, with every required field the spec lists."""
        if user_id == self.bot_user.id:
            user = self.bot_user
        else:
            user = self.users.get(user_id) or UserRecord(user_id, f"User {user_id}")
        subtype = {
            "creator": "ChatMemberOwner",
            "administrator": "ChatMemberAdministrator",
            "member": "ChatMemberMember",
            "restricted": "ChatMemberRestricted",
            "left": "ChatMemberLeft",
            "kicked": "ChatMemberBanned",
        }[status]
        member: dict[str, Any] = {"status": status, "user": user.to_dict()}
        grant = status == "administrator"
        for param in self.spec.fields_of(subtype).values():
            if param.name in member or not param.required:
                continue
            if param.types == ("Boolean",):
                member[param.name] = grant and param.name.startswith("can_") and param.name != "can_be_edited"
            elif param.types == ("Integer",):
                member[param.name] = 0
        if status == "restricted":
            member["is_member"] = True
        if grant:
            member.update(can_manage_topics=True, can_pin_messages=True)
        member.update(NEWER_API_FIELDS.get(subtype, {}))
        return member

    def _get_chat_member(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        chat_id = self._resolve_chat(params["chat_id"])
        user_id = params["user_id"]
        if chat_id == self.staff_chat_id:
            if user_id == self.bot_user.id:
                return self._member(user_id, "administrator")
            return self._member(user_id, self.members.get(user_id, "left"))
        if user_id not in (chat_id, self.bot_user.id):
            raise bad_request("user not found")
        return self._member(user_id, "member")

    def _set_my_commands(self, params: dict[str, Any], call: Call) -> bool:
        return True  # the commands were checked against the spec; nothing reads them back

    def _forum(self, params: Mapping[str, Any]) -> None:
        if self._resolve_chat(params["chat_id"]) != self.staff_chat_id or not self.staff_forum:
            raise bad_request("the chat is not a forum")

    def _topic(self, params: Mapping[str, Any]) -> Topic:
        self._forum(params)
        topic = self.topics.get(params["message_thread_id"])
        if topic is None or topic.deleted:
            raise bad_request("TOPIC_ID_INVALID")
        return topic

    def _create_forum_topic(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """A topic and its creation service message (whose message_id is the topic's thread id)."""
        self._forum(params)
        color = params.get("icon_color", TOPIC_COLORS[0])
        if color not in TOPIC_COLORS:
            raise bad_request("TOPIC_COLOR_INVALID", violation=True)
        name, emoji = str(params["name"]), params.get("icon_custom_emoji_id")
        data = self._new_message(self.staff_chat_id, self.bot_user.to_dict(), None)
        thread_id = data["message_thread_id"] = data["message_id"]
        data["is_topic_message"] = True
        created: dict[str, Any] = {"name": name, "icon_color": color}
        if emoji:
            created["icon_custom_emoji_id"] = emoji
        data["forum_topic_created"] = created
        topic = self.topics[thread_id] = Topic(thread_id, name, color, emoji)
        call.message = self._store(self.staff_chat_id, data, from_bot=True, method="createForumTopic")
        return topic.to_forum_topic()

    def _edit_forum_topic(self, params: dict[str, Any], call: Call) -> bool:
        topic = self._topic(params)
        name = params.get("name", topic.name)
        emoji = params.get("icon_custom_emoji_id", topic.icon_custom_emoji_id)
        if (name, emoji) == (topic.name, topic.icon_custom_emoji_id):
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.name, topic.icon_custom_emoji_id = str(name), emoji
        return True

    def _set_topic_closed(self, params: Mapping[str, Any], closed: bool) -> bool:
        topic = self._topic(params)
        if topic.closed == closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = closed
        return True

    def _close_forum_topic(self, params: dict[str, Any], call: Call) -> bool:
        return self._set_topic_closed(params, True)

    def _reopen_forum_topic(self, params: dict[str, Any], call: Call) -> bool:
        return self._set_topic_closed(params, False)

    # ------------------------------------------------------------------------ test side: people act

    def _writer(self, user_id: int, first_name: str | None, language_code: str | None) -> UserRecord:
        user = self.users.get(user_id)
        if user is None:
            user = self.add_user(user_id, first_name or "Test", language_code=language_code or "az")
        else:
            user.first_name = first_name or user.first_name
            user.language_code = language_code or user.language_code
        if user.blocked:
            self.user_unblocks_bot(user_id)
        user.started = True
        return user

    def _user_message(
        self,
        user_id: int,
        content: dict[str, Any],
        *,
        first_name: str | None,
        language_code: str | None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        user = self._writer(user_id, first_name, language_code)
        data = self._new_message(user_id, user.to_dict(), None)
        data.update(content)
        if reply_to_message_id is not None:
            target = self._live(user_id, reply_to_message_id)
            if target is None:
                raise ValueError(f"no message {reply_to_message_id} in the private chat with {user_id}")
            data["reply_to_message"] = self._as_reply(target)
        self._store(user_id, data, from_bot=False)
        return self._enqueue({"message": copy.deepcopy(data)})

    def user_sends_text(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str | None = None,
        language_code: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """A user writes ``text`` to the bot in private; returns the enqueued Update."""
        content: dict[str, Any] = {"text": text}
        command = re.match(r"/[A-Za-z0-9_]+(@\w+)?", text)
        if command:
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command.group(0))}]
        return self._user_message(
            user_id,
            content,
            first_name=first_name,
            language_code=language_code,
            reply_to_message_id=reply_to_message_id,
        )

    def _user_media(
        self,
        user_id: int,
        kind: str,
        caption: str | None,
        first_name: str | None,
        language_code: str | None,
        **file_kw: Any,
    ) -> dict[str, Any]:
        stored = self.register_file(kind, **file_kw)
        content: dict[str, Any] = {kind: copy.deepcopy(stored.obj)}
        if caption:
            content["caption"] = caption
        return self._user_message(user_id, content, first_name=first_name, language_code=language_code)

    def user_sends_photo(
        self,
        user_id: int,
        caption: str | None = None,
        *,
        first_name: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        return self._user_media(user_id, "photo", caption, first_name, language_code)

    def user_sends_voice(
        self,
        user_id: int,
        duration: int = 3,
        caption: str | None = None,
        *,
        first_name: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        return self._user_media(user_id, "voice", caption, first_name, language_code, duration=duration)

    def user_sends_sticker(
        self,
        user_id: int,
        emoji: str = "🙂",
        *,
        first_name: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        return self._user_media(user_id, "sticker", None, first_name, language_code, emoji=emoji)

    def _member_update(self, user: UserRecord, old: str, new: str) -> dict[str, Any]:
        return self._enqueue(
            {
                "my_chat_member": {
                    "chat": user.private_chat(),
                    "from": user.to_dict(),
                    "date": int(time.time()),
                    "old_chat_member": self._member(self.bot_user.id, old),
                    "new_chat_member": self._member(self.bot_user.id, new),
                }
            }
        )

    def user_blocks_bot(self, user_id: int) -> dict[str, Any]:
        """The user blocks the bot: sends to them now fail with 403; enqueues ``my_chat_member``."""
        user = self.users[user_id]
        user.blocked = True
        return self._member_update(user, "member", "kicked")

    def user_unblocks_bot(self, user_id: int) -> dict[str, Any]:
        user = self.users[user_id]
        user.blocked = False
        return self._member_update(user, "kicked", "member")

    def _press(
        self, user: UserRecord, chat_id: int, message_id: int, data: str, strict: bool
    ) -> dict[str, Any]:
        target = self._live(chat_id, message_id)
        if strict:
            if target is None or not target.from_bot:
                raise AssertionError(
                    f"no live bot message {message_id} in chat {chat_id} to press a button on"
                )
            if data not in target.callback_data:
                raise AssertionError(
                    f"message {message_id} has no button with callback_data {data!r}; "
                    f"it has {target.callback_data}"
                )
        query_id = str(4_000_000_000_000_000 + next(self._ids))
        query: dict[str, Any] = {
            "id": query_id,
            "from": user.to_dict(),
            "message": copy.deepcopy(target.data)
            if target is not None
            else {"chat": self._chat_dict(chat_id), "message_id": message_id, "date": 0},
            "chat_instance": str(zlib.crc32(f"{chat_id}".encode())),
            "data": data,
        }
        self._callbacks[query_id] = PendingCallback(query_id, user.id, chat_id, message_id, data)
        return self._enqueue({"callback_query": query})

    def user_presses(
        self, user_id: int, message_id: int, data: str, *, strict: bool = True
    ) -> dict[str, Any]:
        """A user presses an inline button of a bot message in their private chat.

        ``strict`` (default) requires the message to exist and to carry a button with that callback_data;
        pass ``strict=False`` to send stale or forged data.
        """
        return self._press(self._writer(user_id, None, None), user_id, message_id, data, strict)

    def _staff(self, staff_user_id: int) -> UserRecord:
        status = self.members.get(staff_user_id, "left")
        if status not in _PRESENT_STATUSES:
            raise ValueError(
                f"user {staff_user_id} is not in the staff chat (status {status!r}); "
                "pass staff_members=... or call set_member()"
            )
        return self.users[staff_user_id]

    def staff_sends_text(
        self,
        staff_user_id: int,
        text: str,
        thread_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """A staff member writes in the staff chat (in a forum topic if ``thread_id``).

        As on Telegram, a message in a topic that replies to nothing carries the topic's creation
        message as ``reply_to_message``.
        """
        user = self._staff(staff_user_id)
        if thread_id is not None:
            topic = self.topics.get(thread_id)
            if topic is None or topic.deleted:
                raise ValueError(f"topic {thread_id} does not exist (or was deleted)")
        data = self._new_message(self.staff_chat_id, user.to_dict(), thread_id)
        data["text"] = text
        reply_to = None
        if reply_to_message_id is not None:
            target = self._live(self.staff_chat_id, reply_to_message_id)
            if target is None:
                raise ValueError(f"no message {reply_to_message_id} in the staff chat")
            reply_to = self._as_reply(target)
        elif thread_id is not None:
            reply_to = self._topic_root(thread_id)
        if reply_to is not None:
            data["reply_to_message"] = reply_to
        self._store(self.staff_chat_id, data, from_bot=False)
        return self._enqueue({"message": copy.deepcopy(data)})

    def staff_presses(
        self, staff_user_id: int, message_id: int, data: str, *, strict: bool = True
    ) -> dict[str, Any]:
        """A staff member presses an inline button of a bot message in the staff chat."""
        return self._press(self._staff(staff_user_id), self.staff_chat_id, message_id, data, strict)

    def enqueue_raw(self, update: dict[str, Any]) -> dict[str, Any]:
        """Enqueue an update as given (malformed ones, or the same update_id twice); returns it.

        Without ``update_id`` the next id is used. The same update_id may be delivered more than once.
        """
        payload = {key: value for key, value in update.items() if key != "update_id"}
        update_id = update.get("update_id")
        if isinstance(update_id, int):
            self._next_update_id = max(self._next_update_id, update_id + 1)
        return self._enqueue(payload, update_id=update_id if "update_id" in update else None)

    def delete_topic(self, thread_id: int) -> None:
        """The topic is deleted (as if by a human: no update reaches the bot); its messages go with it."""
        topic = self.topics[thread_id]
        topic.deleted = True
        for stored in self._chats.get(self.staff_chat_id, {}).values():
            if stored.thread_id == thread_id or stored.message_id == thread_id:
                stored.deleted = True

    # ------------------------------------------------------------------------------ test side: look

    def sent(self, chat_id: int | None = None, thread_id: int | None = None) -> list[StoredMessage]:
        """Messages the bot posted (sendMessage/copyMessage), oldest first, with current state."""
        return [m for m in self._all_messages if self._sent_matches(m, chat_id, thread_id)]

    @staticmethod
    def _sent_matches(message: StoredMessage, chat_id: int | None, thread_id: int | None) -> bool:
        return (
            message.from_bot
            and message.method in SENDING_METHODS
            and (chat_id is None or message.chat_id == chat_id)
            and (thread_id is None or message.thread_id == thread_id)
        )

    def message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        """A message of a chat (people's or the bot's, deleted ones flagged), in its current state."""
        return self._chats.get(chat_id, {}).get(message_id)

    @property
    def errors(self) -> list[Call]:
        """Calls that got an error answer."""
        return [call for call in self.calls if not call.ok]

    @property
    def unanswered_callbacks(self) -> list[PendingCallback]:
        return [pending for pending in self._callbacks.values() if not pending.answered]

    def assert_no_violations(self) -> None:
        """Fail if the bot made a call Telegram would reject (or this fake server crashed on one)."""
        problems = [f"  - {violation}" for violation in self.violations]
        problems += [
            f"  - the fake server failed on {call.method}: {exc!r}" for call, exc in self.internal_errors
        ]
        if problems:
            lines = "\n".join(problems)
            raise AssertionError(f"the bot made Bot API calls Telegram would reject:\n{lines}")

    async def _wait_until(self, condition: Callable[[], Any], seconds: float, what: Callable[[], str]) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            found = condition()
            if found:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {seconds}s waiting for {what()}")
            await self._call_signal.wait(min(remaining, 0.05))

    def _recent(self, since: int) -> str:
        calls = [c for c in self.calls[since:] if c.method != "getUpdates"][-12:]
        return f"{len(calls)} calls since #{since}: {calls}"

    async def wait_for_sent(
        self,
        chat_id: int | None = None,
        thread_id: int | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the condition, not for one await
    ) -> list[StoredMessage]:
        """The first ``count`` messages the bot posted (to ``chat_id``/``thread_id`` if given) since the
        test last enqueued an update, so a reply that came before the test started waiting still counts."""
        start = self._mark

        def find() -> list[StoredMessage] | None:
            found = [
                c.message
                for c in self.calls[start:]
                if c.ok and c.message is not None and self._sent_matches(c.message, chat_id, thread_id)
            ]
            return found[:count] if len(found) >= count else None

        return await self._wait_until(
            find, timeout, lambda: f"{count} sent message(s); {self._recent(start)}"
        )

    async def wait_idle(self, quiet: float = 0.2, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has made no call (except getUpdates) for ``quiet`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            count = sum(c.method != "getUpdates" for c in self.calls)
            await asyncio.sleep(quiet)
            if sum(c.method != "getUpdates" for c in self.calls) == count:
                return
            if loop.time() > deadline:
                raise AssertionError(f"the bot did not go quiet within {timeout}s")

    async def wait_until_consumed(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has confirmed (or its webhook accepted) every enqueued update."""

        def consumed() -> bool:
            return not self._updates

        await self._wait_until(
            consumed, timeout, lambda: f"the bot to consume {len(self._updates)} update(s)"
        )
