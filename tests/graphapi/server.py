"""A local Graph API server (aiohttp on 127.0.0.1) that plays Meta's Messenger Platform for tests.

The bot's ``MessengerChannel`` talks HTTP to it instead of graph.facebook.com (``base_url``); the tests
play the people, whose messages the server turns into signed webhook requests shaped like Meta's.

Send API (``POST /{version}/me/messages?access_token=...``), checked like Meta checks it (payload shapes
from the Messenger Platform reference):

- the Page token (else 400, code 190); a known recipient (else code 100, subcode 2018001);
- ``messaging_type`` RESPONSE | UPDATE | MESSAGE_TAG, and ``tag`` exactly with MESSAGE_TAG;
- ``message``: a non-empty ``text`` (Messenger 2,000 characters, Instagram 1,000 bytes) or a button
  template (text 1-640, 1-3 postback buttons); ``quick_replies``: 1-13, titles 1-20, payloads <= 1000.
  A request Meta would reject as malformed is answered with code 100 *and* recorded in ``violations``
  (the tests fail on any);
- policy, as Meta applies it: RESPONSE/UPDATE only within 24 hours of the person's last message, the
  HUMAN_AGENT tag within 7 days (else code 10, subcode 2018278); a person who blocked the Page gets
  code 551, subcode 1545041. These answers are expected behaviour and recorded in ``rejections``.

Faults: ``fail_next(n, status=500)`` (5xx with code 1200, or an HTML page with ``html=True``),
``rate_limit(n, code=613 | 4 | 17 | 32, status=400 | 429, retry_after=, usage_minutes=)``.

People: ``text(psid, "...")``, ``quick_reply(psid, title, payload)``, ``postback(psid, title,
payload)``, ``attachment(psid, "image")``, ``echo``, ``delivery``, ``read`` build messaging events;
``envelope(events, channel)`` wraps them like Meta (object ``page`` or ``instagram``);
``deliver(url, body)`` posts them signed (``X-Hub-Signature-256``), as Meta does.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

PAGE_ID = "104857600000001"
IG_ID = "17841400000000001"
PAGE_TOKEN = "EAAGtestpagetoken0123456789"
APP_SECRET = "test-app-secret-0123456789abcdef"
VERIFY_TOKEN = "verify-token-0123456789"
VERSION = "v25.0"
DAY = 86_400.0
MESSAGING_TYPES = {"RESPONSE", "UPDATE", "MESSAGE_TAG"}
TAGS = {"HUMAN_AGENT", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE"}
TOP_LEVEL = {"recipient", "messaging_type", "tag", "message", "notification_type", "persona_id"}


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class User:
    id: str
    channel: str  # messenger | instagram
    last_message_at: float
    blocked: bool = False


@dataclass
class Sent:
    """One message the Page sent (accepted by the server)."""

    recipient: str
    channel: str
    messaging_type: str
    tag: str | None
    message: dict[str, Any]
    message_id: str
    at: float

    @property
    def template(self) -> dict[str, Any] | None:
        attachment = self.message.get("attachment") or {}
        return attachment.get("payload") if attachment.get("type") == "template" else None

    @property
    def text(self) -> str:
        template = self.template
        return (template or {}).get("text") or self.message.get("text") or ""

    @property
    def quick_replies(self) -> list[dict[str, Any]]:
        return list(self.message.get("quick_replies") or [])

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return list((self.template or {}).get("buttons") or [])

    @property
    def choices(self) -> list[tuple[str, str]]:
        """(title, payload) of the quick replies or the template's buttons."""
        return [(c.get("title", ""), c.get("payload", "")) for c in (self.quick_replies or self.buttons)]

    @property
    def payloads(self) -> list[str]:
        return [payload for _, payload in self.choices]


@dataclass
class Fault:
    remaining: int
    status: int
    code: int | None
    subcode: int | None = None
    html: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    message: str = ""


class GraphAPIServer:
    def __init__(
        self,
        *,
        page_id: str = PAGE_ID,
        ig_id: str = IG_ID,
        token: str = PAGE_TOKEN,
        app_secret: str = APP_SECRET,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.page_id = page_id
        self.ig_id = ig_id
        self.token = token
        self.app_secret = app_secret
        self.clock = clock
        self.users: dict[str, User] = {}
        self.sent_messages: list[Sent] = []
        self.calls: list[dict[str, Any]] = []  # every Send API request body, answered or not
        self.call_times: list[float] = []  # time.monotonic() of each call
        self.violations: list[str] = []
        self.rejections: list[tuple[str, int, int | None]] = []  # (recipient, code, subcode)
        self._faults: list[Fault] = []
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.port = 0
        self._changed = asyncio.Event()

    # ---- lifecycle -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{VERSION}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{version}/me/messages", self._send)
        app.router.add_get("/{version}/me", self._me)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> GraphAPIServer:
        await self.start()
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self.stop()

    def assert_no_violations(self) -> None:
        assert not self.violations, f"requests Meta would reject: {self.violations}"

    # ---- people ----------------------------------------------------------------------------------
    def user(self, user_id: str, channel: str = "messenger") -> User:
        found = self.users.get(user_id)
        if found is None:
            found = self.users[user_id] = User(user_id, channel, self.clock())
        return found

    def age(self, user_id: str, hours: float) -> None:
        """The person's last message was ``hours`` earlier than recorded (time passed)."""
        self.users[user_id].last_message_at -= hours * 3600.0

    def block(self, user_id: str, blocked: bool = True) -> None:
        self.users[user_id].blocked = blocked

    # ---- webhook events, shaped like Meta's ----------------------------------------------------------
    def _mid(self, channel: str) -> str:
        if channel == "instagram":
            return "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE" + secrets.token_urlsafe(66).replace("-", "A")
        return "m_" + secrets.token_urlsafe(64)

    def _event(self, user_id: str, channel: str, **body: Any) -> dict[str, Any]:
        user = self.user(user_id, channel)
        now = self.clock()
        user.last_message_at = now
        user.blocked = False  # writing to the Page means they do not block it (any more)
        recipient = self.page_id if user.channel == "messenger" else self.ig_id
        return {
            "sender": {"id": user_id},
            "recipient": {"id": recipient},
            "timestamp": int(now * 1000),
            **body,
        }

    def text(
        self, user_id: str, text: str, channel: str = "messenger", mid: str | None = None
    ) -> dict[str, Any]:
        return self._event(user_id, channel, message={"mid": mid or self._mid(channel), "text": text})

    def quick_reply(
        self, user_id: str, title: str, payload: str, channel: str = "messenger"
    ) -> dict[str, Any]:
        message = {"mid": self._mid(channel), "text": title, "quick_reply": {"payload": payload}}
        return self._event(user_id, channel, message=message)

    def postback(
        self, user_id: str, title: str, payload: str, channel: str = "messenger", with_mid: bool = True
    ) -> dict[str, Any]:
        postback: dict[str, Any] = {"title": title, "payload": payload}
        if with_mid:
            postback["mid"] = self._mid(channel)
        return self._event(user_id, channel, postback=postback)

    def attachment(self, user_id: str, kind: str = "image", channel: str = "messenger") -> dict[str, Any]:
        payload = {"url": f"https://scontent.example/{secrets.token_hex(8)}.bin"}
        message = {"mid": self._mid(channel), "attachments": [{"type": kind, "payload": payload}]}
        return self._event(user_id, channel, message=message)

    def echo(self, user_id: str, text: str, channel: str = "messenger") -> dict[str, Any]:
        """The Page's own message, echoed (sender is the Page, recipient the person)."""
        page = self.page_id if channel == "messenger" else self.ig_id
        now = int(self.clock() * 1000)
        message = {"mid": self._mid(channel), "is_echo": True, "app_id": 1517776481860111, "text": text}
        return {"sender": {"id": page}, "recipient": {"id": user_id}, "timestamp": now, "message": message}

    def delivery(self, user_id: str, channel: str = "messenger") -> dict[str, Any]:
        page = self.page_id if channel == "messenger" else self.ig_id
        now = int(self.clock() * 1000)
        delivery = {"mids": [self._mid(channel)], "watermark": now}
        return {"sender": {"id": user_id}, "recipient": {"id": page}, "timestamp": now, "delivery": delivery}

    def read(self, user_id: str, channel: str = "messenger") -> dict[str, Any]:
        page = self.page_id if channel == "messenger" else self.ig_id
        now = int(self.clock() * 1000)
        read: dict[str, Any] = {"watermark": now} if channel == "messenger" else {"mid": self._mid(channel)}
        return {"sender": {"id": user_id}, "recipient": {"id": page}, "timestamp": now, "read": read}

    def envelope(self, events: list[dict[str, Any]], channel: str = "messenger") -> dict[str, Any]:
        entry_id = self.page_id if channel == "messenger" else self.ig_id
        now = int(self.clock() * 1000)
        return {
            "object": "page" if channel == "messenger" else "instagram",
            "entry": [{"id": entry_id, "time": now, "messaging": [event]} for event in events],
        }

    async def deliver(
        self, url: str, body: dict[str, Any] | bytes, signature: str | None = None, signed: bool = True
    ) -> tuple[int, str]:
        """POST a webhook request as Meta does: JSON, signed with the app secret."""
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if signed:
            headers["X-Hub-Signature-256"] = signature or sign(raw, self.app_secret)
            headers["X-Hub-Signature"] = "sha1=" + hmac.new(self.app_secret.encode(), raw, "sha1").hexdigest()
        if self._client is None or self._client.closed:
            self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        async with self._client.post(url, data=raw, headers=headers) as response:
            return response.status, await response.text()

    # ---- faults ----------------------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 500, html: bool = False) -> None:
        self._faults.append(
            Fault(count, status, None if html else 1200, html=html, message="Temporary send failure")
        )

    def rate_limit(
        self,
        count: int,
        code: int = 613,
        status: int = 400,
        retry_after: float | None = None,
        usage_minutes: int | None = None,
    ) -> None:
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if usage_minutes is not None:
            entry = {"type": "messenger", "call_count": 100, "total_cputime": 20, "total_time": 30}
            usage = {self.page_id: [{**entry, "estimated_time_to_regain_access": usage_minutes}]}
            headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
        message = "Calls to this API have exceeded the rate limit." if code == 613 else "Rate limit reached"
        self._faults.append(Fault(count, status, code, headers=headers, message=message))

    # ---- looking ---------------------------------------------------------------------------------
    def sent(self, recipient: str | None = None, channel: str | None = None) -> list[Sent]:
        return [
            s
            for s in self.sent_messages
            if (recipient is None or s.recipient == recipient) and (channel is None or s.channel == channel)
        ]

    def texts_to(self, recipient: str) -> list[str]:
        return [s.text for s in self.sent(recipient)]

    async def wait_for(self, condition: Callable[[], Any], timeout: float = 20.0, what: str = "it") -> Any:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = condition()
            if result:
                return result
            if loop.time() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what}; sent: {[s.text[:40] for s in self.sent_messages]}"
                )
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(0.2, max(0.01, deadline - loop.time())))
            except TimeoutError:
                pass

    async def wait_for_sent(self, recipient: str, count: int = 1, timeout: float = 20.0) -> list[Sent]:  # noqa: ASYNC109
        await self.wait_for(lambda: len(self.sent(recipient)) >= count, timeout, f"{count} message(s)")
        return self.sent(recipient)

    # ---- the Graph API -----------------------------------------------------------------------------
    def _error(
        self, status: int, code: int, message: str, subcode: int | None = None, kind: str = "OAuthException"
    ) -> web.Response:
        error: dict[str, Any] = {"message": f"(#{code}) {message}", "type": kind, "code": code,
                                 "fbtrace_id": secrets.token_urlsafe(8)}  # fmt: skip
        if subcode is not None:
            error["error_subcode"] = subcode
        return web.json_response({"error": error}, status=status)

    def _token_ok(self, request: web.Request) -> bool:
        given = request.query.get("access_token") or request.headers.get("Authorization", "").removeprefix(
            "Bearer "
        )
        return given == self.token

    async def _me(self, request: web.Request) -> web.Response:
        if not self._token_ok(request):
            return self._error(400, 190, "Invalid OAuth access token.")
        return web.json_response({"id": self.page_id, "name": "Uşaq Qaynar Xətti"})

    def _violation(self, problem: str) -> web.Response:
        self.violations.append(problem)
        return self._error(400, 100, f"Invalid parameter: {problem}", kind="OAuthException")

    async def _send(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
        except ValueError:
            return self._violation("body is not JSON")
        self.calls.append(body)
        self.call_times.append(time.monotonic())
        self._changed.set()
        if not self._token_ok(request):
            self.violations.append("wrong or missing page token")
            return self._error(400, 190, "Invalid OAuth access token.")
        for fault in self._faults:
            if fault.remaining > 0:
                fault.remaining -= 1
                if fault.html:
                    return web.Response(status=fault.status, text="<html><body>502 Bad Gateway</body></html>",
                                        content_type="text/html")  # fmt: skip
                error: dict[str, Any] = {
                    "message": f"(#{fault.code}) {fault.message}",
                    "type": "OAuthException",
                    "code": fault.code,
                    "is_transient": True,
                }
                return web.json_response({"error": error}, status=fault.status, headers=fault.headers)
        if not isinstance(body, dict):
            return self._violation("body is not an object")
        unknown = set(body) - TOP_LEVEL
        if unknown:
            return self._violation(f"unknown fields {sorted(unknown)}")
        recipient = (
            (body.get("recipient") or {}).get("id") if isinstance(body.get("recipient"), dict) else None
        )
        if not isinstance(recipient, str):
            return self._violation("recipient.id missing")
        messaging_type = body.get("messaging_type")
        if messaging_type not in MESSAGING_TYPES:
            return self._violation(f"messaging_type {messaging_type!r}")
        tag = body.get("tag")
        if (messaging_type == "MESSAGE_TAG") != (tag is not None):
            return self._violation("tag goes with messaging_type MESSAGE_TAG, and only with it")
        if tag is not None and tag not in TAGS:
            return self._violation(f"tag {tag!r}")
        user = self.users.get(recipient)
        if user is None:
            self.rejections.append((recipient, 100, 2018001))
            return self._error(400, 100, "No matching user found", 2018001)
        if user.channel == "instagram" and tag is not None and tag != "HUMAN_AGENT":
            return self._violation(f"Instagram takes only the HUMAN_AGENT tag, not {tag}")
        problem = self._check_message(body.get("message"), user.channel)
        if problem:
            return self._violation(problem)
        if user.blocked:
            self.rejections.append((recipient, 551, 1545041))
            return self._error(400, 551, "This person isn't available right now.", 1545041)
        age = self.clock() - user.last_message_at
        allowed = 7 * DAY if tag == "HUMAN_AGENT" else DAY
        if tag not in (None, "HUMAN_AGENT") or age > allowed:
            self.rejections.append((recipient, 10, 2018278))
            return self._error(400, 10, "This message is sent outside of allowed window.", 2018278)
        message_id = self._mid(user.channel)
        self.sent_messages.append(
            Sent(recipient, user.channel, messaging_type, tag, body["message"], message_id, self.clock())
        )
        self._changed.set()
        return web.json_response({"recipient_id": recipient, "message_id": message_id})

    def _check_message(self, message: Any, channel: str) -> str | None:
        if not isinstance(message, dict):
            return "message missing"
        unknown = set(message) - {"text", "attachment", "quick_replies", "metadata"}
        if unknown:
            return f"unknown message fields {sorted(unknown)}"
        text, attachment = message.get("text"), message.get("attachment")
        if (text is None) == (attachment is None):
            return "message needs exactly one of text and attachment"
        if text is not None:
            if not isinstance(text, str) or not text.strip():
                return "text empty"
            if channel == "messenger" and units(text) > 2000:
                return f"text of {units(text)} characters (2000 at most)"
            if channel == "instagram" and len(text.encode()) > 1000:
                return f"Instagram text of {len(text.encode())} bytes (1000 at most)"
        if attachment is not None:
            problem = self._check_template(attachment)
            if problem:
                return problem
        replies = message.get("quick_replies")
        if replies is not None:
            if not isinstance(replies, list) or not 1 <= len(replies) <= 13:
                return "quick_replies: 1 to 13"
            for reply in replies:
                if not isinstance(reply, dict) or reply.get("content_type") != "text":
                    return "quick reply content_type must be text"
                title, payload = reply.get("title"), reply.get("payload")
                if not isinstance(title, str) or not 1 <= units(title) <= 20:
                    return f"quick reply title {title!r} (1 to 20 characters)"
                if not isinstance(payload, str) or not 1 <= len(payload) <= 1000:
                    return "quick reply payload (1 to 1000 characters)"
        return None

    def _check_template(self, attachment: Any) -> str | None:
        if not isinstance(attachment, dict) or attachment.get("type") != "template":
            return "only template attachments are expected from this bot"
        payload = attachment.get("payload") or {}
        if payload.get("template_type") != "button":
            return f"template_type {payload.get('template_type')!r}"
        text, buttons = payload.get("text"), payload.get("buttons")
        if not isinstance(text, str) or not 1 <= units(text) <= 640:
            return "button template text: 1 to 640 characters"
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            return "button template: 1 to 3 buttons"
        for button in buttons:
            if not isinstance(button, dict) or button.get("type") != "postback":
                return "only postback buttons are expected"
            title, data = button.get("title"), button.get("payload")
            if not isinstance(title, str) or not 1 <= units(title) <= 20:
                return f"button title {title!r} (1 to 20 characters)"
            if not isinstance(data, str) or not 1 <= len(data) <= 1000:
                return "button payload (1 to 1000 characters)"
        return None
