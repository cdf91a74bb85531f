"""Triage in the context of the Rasa conversation.

A Rasa assistant may answer some messages itself and call ``action_helpline_triage`` on others, so
the engine may not have seen every earlier message of the conversation. :class:`ContextTriager`
wraps the engine's triager: while an action handles a message, the tracker's recent user messages
(:func:`context`) are given to the triage as the conversation so far, so risk accumulates across them
exactly as it does across the messages the engine saw (a means named earlier and a plan now).

If the triager takes a ``history`` of earlier messages itself, it gets them; otherwise their signals
are passed on as earlier signals, which is how the core's triage accumulates risk.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from bot.domain import Signal, TriageResult

_HISTORY: ContextVar[tuple[str, ...]] = ContextVar("rasa_history", default=())


@contextlib.contextmanager
def context(history: Sequence[str]) -> Iterator[None]:
    """Within this block (and the tasks it starts), triage reads ``history`` as what came before."""
    token = _HISTORY.set(tuple(history))
    try:
        yield
    finally:
        _HISTORY.reset(token)


class ContextTriager:
    def __init__(self, base: Any) -> None:
        self.base = base
        try:
            self._takes_history = "history" in inspect.signature(base.analyze).parameters
        except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
            self._takes_history = False

    def __getattr__(self, name: str) -> Any:  # label_az, signal_label, rules ... of the real triager
        return getattr(self.base, name)

    def analyze(self, text: str, prior: Sequence[Signal] = (), **kw: Any) -> TriageResult:
        history = _HISTORY.get()
        if not history or "history" in kw:
            return self.base.analyze(text, prior, **kw)
        if self._takes_history:
            return self.base.analyze(text, prior, history=history, **kw)
        earlier = list(prior)
        codes = {s.code for s in earlier}
        for message in history:
            for signal in self.base.analyze(message, earlier).signals:
                if signal.code not in codes:
                    codes.add(signal.code)
                    earlier.append(signal)
        return self.base.analyze(text, earlier, **kw)
