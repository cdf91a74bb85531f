"""Tunable knobs of the Telegram channel (pacing, polling, retries). Defaults follow Telegram's limits;
tests and the benchmark pass faster values."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Window:
    """At most ``count`` messages within any ``seconds``."""

    count: int
    seconds: float


@dataclass(frozen=True)
class Pacing:
    """Telegram's flood limits, kept with a small margin.

    About one message a second per private chat (short bursts are tolerated: three within three
    seconds), twenty a minute per group, thirty a second overall. Every message posted counts (sent,
    copied, and a new forum topic, which posts a service message); edits of a card and topic changes
    do not.
    """

    private: Window = Window(3, 3.0)
    group: Window = Window(20, 60.0)
    overall: Window = Window(30, 1.0)
    margin: float = 0.05  # seconds added to every window

    @classmethod
    def unlimited(cls) -> Pacing:
        return cls(Window(1_000_000, 1.0), Window(1_000_000, 1.0), Window(1_000_000, 1.0), 0.0)


@dataclass(frozen=True)
class TelegramOptions:
    poll_timeout: int = 25  # getUpdates long poll, seconds
    outbox_poll: float = 1.0  # the sender looks for due items this often (and at once when woken)
    outbox_batch: int = 200
    pacing: Pacing = field(default_factory=Pacing)
    backoff_base: float = 1.0  # 5xx / network errors: 1, 2, 4, ... seconds
    backoff_cap: float = 30.0  # never wait longer than this between attempts (a card must get through)
    handle_retries: int = 3  # attempts at handling one update before leaving it for the next start
    handle_backoff: float = 0.5
    concurrency: int = 16  # updates handled at once (from different chats; one chat is always in order)
    reminder_interval: float = 10.0  # how often the core jobs look for unclaimed crisis cases
    member_cache_seconds: float = 60.0  # staff membership (getChatMember) is cached this long
    start_cooldown: float = 10.0  # a repeated /start within this many seconds is not answered again
    card_messages: int = 6  # last messages shown on a case card
    request_timeout: float = 30.0  # one Bot API call (getUpdates adds its long-poll timeout)
    set_commands: bool = True  # publish the command menus (setMyCommands) on start
    drain_timeout: float = 5.0  # on stop: wait this long for updates in progress
    replay_interval: float = 5.0  # updates recorded but not handled are retried this often
    leader_poll: float = 5.0  # a replica that is not the sender/poller asks again this often
