"""Rasa: the helpline's core as custom actions of a Rasa assistant, and counsellors' replies back
through Rasa's HTTP API.

- ``python -m bot rasa-actions`` (``server``) serves rasa-sdk's action server with the actions of
  ``actions`` (``action_helpline_triage``, ``_handoff``, ``_selfhelp``, ``_forget``, ``_button``,
  ``_relay``). Each action is one engine turn for the person ``Inbound(channel="rasa",
  user_id=<tracker sender_id>)`` (``turns``): the case lifecycle, the crisis protocol and storage are
  the same as on every channel. What the turn wrote to the outbox for that person is taken at once and
  returned as the action's responses (marked sent: never sent twice).
- ``python -m bot run`` with ``RASA_URL`` runs :class:`RasaChannel` (``sender``): everything else for
  people on this channel (a counsellor's reply, "a counsellor joined", the closing words) goes from the
  durable outbox to Rasa's ``POST /conversations/{sender_id}/trigger_intent``, retried with backoff,
  from one process at a time.

Only ``actions`` and ``server`` import rasa-sdk (the optional extra ``.[rasa]``).
"""

from __future__ import annotations

CHANNEL = "rasa"
# The external event that carries what the helpline has for the person (README: domain and rules).
INTENT = "EXTERNAL_helpline_counsellor_message"
MESSAGE_ENTITY = "helpline_message"
BUTTONS_ENTITY = "helpline_buttons"
# The intent of the helpline's buttons: payload /helpline_button{"helpline_button": "<data>"}.
BUTTON_INTENT = "helpline_button"
BUTTON_ENTITY = "helpline_button"

# Slots the actions set (and read).
SLOT_RISK = "helpline_risk"
SLOT_CATEGORY = "helpline_category"
SLOT_TOPICS = "helpline_topics"
SLOT_ESCALATE = "helpline_escalate"
SLOT_LANGUAGE = "helpline_language"
SLOT_TOPIC = "helpline_topic"  # set by the assistant to ask for one self-help topic
SLOTS = (SLOT_RISK, SLOT_CATEGORY, SLOT_TOPICS, SLOT_ESCALATE, SLOT_LANGUAGE)


def __getattr__(name: str) -> object:
    if name == "RasaChannel":  # the sender needs aiohttp only, never rasa-sdk
        from bot.channels.rasa.sender import RasaChannel

        return RasaChannel
    raise AttributeError(name)


__all__ = ["CHANNEL", "INTENT", "RasaChannel"]
