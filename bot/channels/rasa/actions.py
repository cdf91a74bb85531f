"""The helpline's custom actions for a Rasa assistant (rasa-sdk ``Action`` classes).

Each action reads the call (:mod:`bot.channels.rasa.calls`), runs one engine turn
(:class:`~bot.channels.rasa.turns.RasaTurns`) and utters what the helpline has for the person, with
the helpline's slots. A call that cannot be handled as it is raises ``ActionExecutionRejection``:
rasa-sdk answers it 400 with its error format (``{"error", "action_name"}``) and nothing is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection

from bot.channels.rasa import BUTTONS_ENTITY, MESSAGE_ENTITY
from bot.channels.rasa.calls import BadCall, Call, read_call
from bot.channels.rasa.turns import ActionReply, RasaTurns
from bot.jobs import describe

log = logging.getLogger(__name__)

MAX_RELAY_BUTTONS = 12


class HelplineAction(Action):
    """An action bound to the running helpline (``RasaTurns``); subclasses name the turn."""

    action_name = ""

    def __init__(self, turns: RasaTurns) -> None:
        self.turns = turns

    def name(self) -> str:
        return self.action_name

    def handler(self) -> Callable[[Call], Awaitable[ActionReply]]:
        raise NotImplementedError

    def read(self, tracker: Tracker) -> Call:
        try:
            return read_call(
                self.action_name, tracker.sender_id, tracker.latest_message, tracker.events, tracker.slots
            )
        except BadCall as exc:
            raise ActionExecutionRejection(self.action_name, str(exc)) from None

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        call = self.read(tracker)
        try:
            reply = await self.handler()(call)
        except Exception as exc:  # never rasa-sdk's 500 (it logs and echoes the person's words)
            log.error("%s failed: %s", self.action_name, describe(exc))
            reply = self.turns.fallback(call)
        for message in reply.messages:
            dispatcher.utter_message(text=message["text"], buttons=message.get("buttons") or None)
        return [SlotSet(name, value) for name, value in reply.slots.items()]


class TriageAction(HelplineAction):
    action_name = "action_helpline_triage"

    def handler(self) -> Callable[[Call], Awaitable[ActionReply]]:
        return self.turns.triage


class HandoffAction(HelplineAction):
    action_name = "action_helpline_handoff"

    def handler(self) -> Callable[[Call], Awaitable[ActionReply]]:
        return self.turns.handoff


class SelfHelpAction(HelplineAction):
    action_name = "action_helpline_selfhelp"

    def handler(self) -> Callable[[Call], Awaitable[ActionReply]]:
        return self.turns.selfhelp


class ForgetAction(HelplineAction):
    action_name = "action_helpline_forget"

    def handler(self) -> Callable[[Call], Awaitable[ActionReply]]:
        return self.turns.forget


class ButtonAction(HelplineAction):
    """A helpline button the person pressed (payload ``/helpline_button{"helpline_button": ...}``)."""

    action_name = "action_helpline_button"

    def handler(self) -> Callable[[Call], Awaitable[ActionReply]]:
        return self.turns.button


class RelayAction(HelplineAction):
    """Shows what ``EXTERNAL_helpline_counsellor_message`` carries (its text and buttons); an
    assistant that only needs the text can use the response ``utter_helpline_counsellor_message``."""

    action_name = "action_helpline_relay"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        call = self.read(tracker)
        values = {e.get("entity"): e.get("value") for e in call.entities}
        text = values.get(MESSAGE_ENTITY)
        if not isinstance(text, str) or not text:
            raise ActionExecutionRejection(self.action_name, f'the message carries no "{MESSAGE_ENTITY}"')
        buttons = [
            {"title": b["title"], "payload": b["payload"]}
            for b in values.get(BUTTONS_ENTITY) or []
            if isinstance(b, dict) and isinstance(b.get("title"), str) and isinstance(b.get("payload"), str)
        ][:MAX_RELAY_BUTTONS]
        dispatcher.utter_message(text=text, buttons=buttons or None)
        return []


ACTIONS: tuple[type[HelplineAction], ...] = (
    TriageAction,
    HandoffAction,
    SelfHelpAction,
    ForgetAction,
    ButtonAction,
    RelayAction,
)
