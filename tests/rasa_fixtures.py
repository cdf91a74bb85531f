"""Rasa's side of the conversation, for the tests: action calls shaped like the ones Rasa 3 posts to
an action server's ``/webhook`` (tracker with ``latest_message``, ``slots`` and ``events``, the domain,
the version), and a local stand-in for Rasa's HTTP API that records ``trigger_intent`` calls.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

RASA_VERSION = "3.6.21"
TOKEN = "rasa-test-token"

# The part of the assistant's domain the helpline's actions need (as in docs/README-rasa.md).
DOMAIN: dict[str, Any] = {
    "version": "3.1",
    "intents": [
        "greet",
        "share_problem",
        "ask_human",
        "ask_selfhelp",
        "forget",
        "helpline_button",
        "EXTERNAL_helpline_counsellor_message",
    ],
    "entities": ["helpline_button", "helpline_message", "helpline_buttons", "helpline_topic"],
    "slots": {
        "helpline_risk": {"type": "text", "influence_conversation": False, "mappings": [{"type": "custom"}]},
        "helpline_category": {
            "type": "text",
            "influence_conversation": False,
            "mappings": [{"type": "custom"}],
        },
        "helpline_topics": {
            "type": "list",
            "influence_conversation": False,
            "mappings": [{"type": "custom"}],
        },
        "helpline_escalate": {
            "type": "bool",
            "influence_conversation": True,
            "mappings": [{"type": "custom"}],
        },
        "helpline_language": {
            "type": "text",
            "influence_conversation": False,
            "mappings": [{"type": "custom"}],
        },
        "helpline_topic": {
            "type": "text",
            "influence_conversation": False,
            "mappings": [{"type": "from_entity", "entity": "helpline_topic"}],
        },
        "helpline_message": {
            "type": "text",
            "influence_conversation": False,
            "mappings": [{"type": "from_entity", "entity": "helpline_message"}],
        },
        "helpline_buttons": {
            "type": "any",
            "influence_conversation": False,
            "mappings": [{"type": "from_entity", "entity": "helpline_buttons"}],
        },
    },
    "responses": {"utter_helpline_counsellor_message": [{"text": "{helpline_message}"}]},
    "actions": [
        "action_helpline_triage",
        "action_helpline_handoff",
        "action_helpline_selfhelp",
        "action_helpline_forget",
        "action_helpline_button",
        "action_helpline_relay",
    ],
    "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
}

_clock = itertools.count(1)


def _ts() -> float:
    return 1_700_000_000.0 + next(_clock)


def user_event(
    text: str, intent: str = "share_problem", entities: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    message_id = uuid.uuid4().hex
    parse = {
        "intent": {"name": intent, "confidence": 0.91},
        "entities": entities or [],
        "text": text,
        "message_id": message_id,
        "metadata": {},
        "intent_ranking": [{"name": intent, "confidence": 0.91}],
    }
    return {
        "event": "user",
        "timestamp": _ts(),
        "metadata": {},
        "text": text,
        "parse_data": parse,
        "input_channel": "rest",
        "message_id": message_id,
    }


def action_event(name: str) -> dict[str, Any]:
    return {"event": "action", "timestamp": _ts(), "name": name, "policy": "RulePolicy", "confidence": 1.0}


def bot_event(text: str) -> dict[str, Any]:
    return {"event": "bot", "timestamp": _ts(), "text": text, "data": {}, "metadata": {}}


def slot_event(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "timestamp": _ts(), "name": name, "value": value}


@dataclass
class Conversation:
    """A Rasa tracker that grows as a real one does: session start, user messages, actions, slots."""

    sender_id: str
    events: list[dict[str, Any]] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.events:
            self.events = [
                action_event("action_session_start"),
                {"event": "session_started", "timestamp": _ts()},
                action_event("action_listen"),
            ]
        for name in DOMAIN["slots"]:
            self.slots.setdefault(name, None)

    def says(self, text: str, intent: str = "share_problem", entities: list[dict[str, Any]] | None = None):
        self.events.append(user_event(text, intent, entities))
        self.events.append(
            {"event": "user_featurization", "timestamp": _ts(), "use_text_for_featurization": False}
        )
        return self

    def presses(self, payload: str) -> Conversation:
        """A button: Rasa reads ``/intent{"entity": "value"}`` without NLU."""
        intent, _, raw = payload[1:].partition("{")
        entities = [{"entity": k, "value": v} for k, v in json.loads("{" + raw).items()] if raw else []
        return self.says(payload, intent=intent, entities=entities)

    @property
    def latest_message(self) -> dict[str, Any]:
        user = next(e for e in reversed(self.events) if e["event"] == "user")
        return user["parse_data"]

    def call(self, action: str) -> dict[str, Any]:
        """The body Rasa posts to the action server's /webhook to run ``action`` now."""
        return {
            "next_action": action,
            "sender_id": self.sender_id,
            "tracker": {
                "sender_id": self.sender_id,
                "slots": dict(self.slots),
                "latest_message": self.latest_message,
                "latest_event_time": self.events[-1]["timestamp"],
                "followup_action": None,
                "paused": False,
                "events": list(self.events),
                "latest_input_channel": "rest",
                "active_loop": {},
                "latest_action": {"action_name": "action_listen"},
                "latest_action_name": "action_listen",
            },
            "domain": DOMAIN,
            "version": RASA_VERSION,
        }

    def ran(self, action: str, result: dict[str, Any]) -> Conversation:
        """Apply an action's result as Rasa does: its events, its messages, then it listens."""
        for event in result.get("events") or []:
            self.events.append({**event, "timestamp": _ts()})
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        for message in result.get("responses") or []:
            self.events.append(bot_event(message.get("text") or ""))
        self.events.append(action_event(action))
        self.events.append(action_event("action_listen"))
        return self


# ---- a stand-in for Rasa's HTTP API ---------------------------------------------------------------
@dataclass
class Triggered:
    conversation_id: str
    query: dict[str, str]
    body: dict[str, Any]

    @property
    def text(self) -> str:
        return self.body["entities"]["helpline_message"]


class RasaStandIn:
    """``POST /conversations/{id}/trigger_intent`` as Rasa answers it; ``fail`` lists statuses to answer
    the next calls with (then 200), and every call is recorded."""

    def __init__(self) -> None:
        self.calls: list[Triggered] = []
        self.accepted: list[Triggered] = []
        self.fail: list[int] = []
        self.web = web.Application()
        self.web.router.add_post("/conversations/{conversation_id}/trigger_intent", self.trigger)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def trigger(self, request: web.Request) -> web.Response:
        call = Triggered(request.match_info["conversation_id"], dict(request.query), await request.json())
        self.calls.append(call)
        if request.query.get("token") != TOKEN:
            return web.json_response(
                {"status": "failure", "reason": "NotAuthenticated", "code": 401}, status=401
            )
        if self.fail:
            status = self.fail.pop(0)
            return web.json_response(
                {"status": "failure", "reason": "ConversationError", "code": status}, status=status
            )
        if call.body.get("name") not in ("EXTERNAL_helpline_counsellor_message",):
            return web.json_response({"status": "failure", "reason": "BadRequest", "code": 400}, status=400)
        self.accepted.append(call)
        return web.json_response({"tracker": None, "messages": []})

    async def start(self) -> None:
        self._runner = web.AppRunner(self.web, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, count: int, seconds: float = 30.0) -> list[Triggered]:
        deadline = time.monotonic() + seconds
        while len(self.accepted) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"Rasa got {len(self.accepted)} of {count} messages: {self.calls}")
            await asyncio.sleep(0.02)
        return self.accepted
