"""Tunable knobs of the Messenger/Instagram channel. Defaults follow Meta's limits and policies; tests
pass faster values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

# Meta's messaging windows (Messenger Platform policy): the Page may answer for 24 hours after the
# person's last message; a human agent may answer for 7 days with the HUMAN_AGENT tag.
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class MessengerOptions:
    outbox_poll: float = 1.0  # the sender looks for due items this often (and at once when woken)
    outbox_batch: int = 200
    concurrency: int = 16  # sends in flight at once (each to a different person; one person in order)
    request_timeout: float = 20.0  # one Graph API call
    backoff_base: float = 1.0  # 5xx / network errors for one person: 1, 2, 4, ... seconds
    backoff_cap: float = 60.0
    rate_limit_wait: float = 30.0  # a Page-wide rate limit without a hint pauses every send this long first
    rate_limit_cap: float = 600.0
    handle_retries: int = 3  # attempts at handling one event before leaving it for the replay loop
    handle_backoff: float = 0.5
    handle_concurrency: int = 16  # events handled at once (from different people; one person in order)
    replay_interval: float = 5.0  # events recorded but not handled are retried this often
    leader_poll: float = 5.0  # a replica that is not the sender asks again this often
    drain_timeout: float = 5.0  # on stop: wait this long for events in progress
    fallback_every: float = 300.0  # the static "116111 / 112" answer at most this often per person
    check_token: bool = True  # ask the Graph API who the token belongs to on start (logged only)
