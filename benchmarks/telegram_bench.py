"""Benchmark: the full bot on Telegram (journal, triage, database, outbox, sender) against a bare aiogram
echo bot, both polling the same local Bot API server (tests/botapi) over HTTP, in one run.

    .venv/bin/python benchmarks/telegram_bench.py                   # SQLite and PostgreSQL
    .venv/bin/python benchmarks/telegram_bench.py --db sqlite --users 50 --messages 3

The server and the simulated users run in this process; each bot runs in its own process (as in
production), so the server's work is not counted against the bot's. Telegram's flood limits are off
on the server and the bot's pacing is off, so the figures are the software's capacity; with pacing on,
Telegram's limits (about 30 messages a second overall, 20 a minute into the staff group) cap any bot.

With ``BENCH_PROFILE=/tmp/bot.prof`` the full bot runs under cProfile and writes
``/tmp/bot.prof.sqlite`` / ``.postgresql`` when it stops (read them with ``python -m pstats``).

Two measurements per bot:

* burst: USERS x MESSAGES messages enqueued at once; messages per second = messages / (time of the
  bot's last call - time the first message was enqueued);
* steady: STEADY_USERS users writing at RATE messages a second in total (each user a message every
  few seconds); p50/p95 time from a message to the bot's first answer, and for the risky messages,
  from the message to its case card in the staff chat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRIPT = str(Path(__file__).resolve())
ROOT = Path(SCRIPT).parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "benchmark-pseudonym-secret-0123456789"
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

BENIGN = [
    "salam",
    "Imtahandan çox qorxuram, nə edim?",
    "mekteb meni yorur, derslerim pisdir",
    "Valideynlərim hər gün dalaşır, evdə durmaq istəmirəm",
    "Özümü çox tənha hiss edirəm, dostum yoxdur",
    "Sinifdə məni ələ salırlar",
    "Bilmirəm kimə danışım",
    "sagol",
    "Atam-anam boşanır, nə edim bilmirəm",
    "Yuxum qaçıb, hər gecə narahatam",
]
RISKY = [
    "Özümü öldürmək istəyirəm, artıq qərar vermişəm, bu axşam",
    "bu gece ozumu oldureceyem, derman yigmisham",
    "Atam məni hər gün döyür, evə getməyə qorxuram",
    "Yaşamaq istəmirəm, hər şeyə son qoymaq istəyirəm",
]


# ---- the bots (run in a child process) -----------------------------------------------------------
async def serve_echo(base_url: str, token: str) -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    print("READY", flush=True)
    await dp.start_polling(bot, polling_timeout=1, handle_signals=True)


async def serve_bot(base_url: str, token: str, staff_chat: int, database_url: str, data_dir: str) -> None:
    from bot.app import build_app
    from bot.channels.telegram import Pacing, TelegramChannel, TelegramOptions
    from bot.config import Settings

    settings = Settings(
        database_url=database_url,
        data_dir=Path(data_dir),
        pseudonym_secret=SECRET,
        log_level="WARNING",
        telegram_bot_token=token,
        telegram_staff_chat_id=staff_chat,
        telegram_api_url=base_url,
    )
    app = await build_app(settings)
    app.engine.triager.analyze("salam")  # the model is loaded (trained on the first run) before timing
    channel = TelegramChannel(
        app,
        options=TelegramOptions(
            poll_timeout=1,
            pacing=Pacing.unlimited(),
            outbox_poll=0.2,
            set_commands=False,
        ),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await channel.start()
    profile_to = os.environ.get("BENCH_PROFILE")  # cProfile of the serving (not the start), written on exit
    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    print("READY", flush=True)
    await stop.wait()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(f"{profile_to}.{database_url.split(':')[0].split('+')[0]}")
    await channel.stop()
    await app.close()


# ---- the load (this process) ---------------------------------------------------------------------
@dataclass
class Sent:
    user: int
    text: str
    at: float
    risky: bool


@dataclass
class PhaseResult:
    name: str
    messages: int = 0
    seconds: float = 0.0
    per_second: float = 0.0
    reply_p50: float | None = None
    reply_p95: float | None = None
    card_p50: float | None = None
    card_p95: float | None = None
    cpu_ms: float | None = None  # the bot process's CPU (all threads) per message in the burst
    cards: int = 0
    risky: int = 0
    notes: list[str] = field(default_factory=list)


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


class BotProcess:
    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> BotProcess:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            SCRIPT,
            *self.args,
            stdout=asyncio.subprocess.PIPE,
            env=env,
            cwd=str(ROOT),
        )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 300)
        if b"READY" not in line:
            raise RuntimeError(f"the bot did not start: {line!r}")
        return self

    def cpu_seconds(self) -> float:
        """User + system CPU of the bot process so far (Linux /proc), all threads included."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


def plan(users: list[int], messages: int, risky_share: float, seed: int) -> list[tuple[int, str, bool]]:
    """Each user's messages in order; a share of the users says one risky thing among them."""
    rng = random.Random(seed)
    risky_users = set(rng.sample(users, max(1, round(len(users) * risky_share)))) if risky_share else set()
    out: list[tuple[int, str, bool]] = []
    for user in users:
        texts = [rng.choice(BENIGN) for _ in range(messages)]
        risky_at = rng.randrange(messages) if user in risky_users else -1
        for i, text in enumerate(texts):
            out.append((user, rng.choice(RISKY) if i == risky_at else text, i == risky_at))
    return out


async def wait_done(server: Any, expect: Any, timeout: float) -> float:  # noqa: ASYNC109
    """Wait until ``await expect()`` holds and the bot has been quiet for a moment; the time of its last
    call."""
    deadline = time.monotonic() + timeout
    while not await expect():
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not finish in time")
        await asyncio.sleep(0.1)
    await server.wait_idle(quiet=1.0, timeout=timeout)
    return max(c.at for c in server.calls if c.method != "getUpdates")


class Progress:
    """For the full bot: every update handled (journal) and nothing left in the outbox."""

    def __init__(self, database_url: str) -> None:
        from bot.storage.db import make_engine, session_factory

        self.engine = make_engine(database_url)
        self.sessions = session_factory(self.engine)

    async def done(self, updates: int) -> bool:
        from sqlalchemy import func, select

        from bot.storage.models import InboxEntry, OutboxItem

        async with self.sessions() as session:
            handled = await session.scalar(
                select(func.count()).select_from(InboxEntry).where(InboxEntry.status == "done")
            )
            pending = await session.scalar(
                select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "pending")
            )
        return handled >= updates and pending == 0

    async def close(self) -> None:
        await self.engine.dispose()


def replies_to(server: Any, users: set[int], since: int) -> dict[int, list[float]]:
    out: dict[int, list[float]] = {}
    for call in server.calls[since:]:
        if (
            call.ok
            and call.message is not None
            and call.message.chat_id in users
            and call.method != "getUpdates"
        ):
            out.setdefault(call.message.chat_id, []).append(call.at)
    return out


async def burst(
    server: Any,
    name: str,
    users: list[int],
    messages: int,
    risky: float,
    progress: Progress | None,
    bot: BotProcess,
    handled_before: int = 0,
) -> PhaseResult:
    load = plan(users, messages, risky, seed=1)
    since = len(server.calls)
    cpu_before = bot.cpu_seconds()
    start = time.monotonic()
    for user, text, _ in load:
        server.user_sends_text(user, text)
    user_set = set(users)

    async def done() -> bool:
        if server.pending_updates:
            return False
        if progress is not None:
            return await progress.done(handled_before + len(load))
        return sum(len(v) for v in replies_to(server, user_set, since).values()) >= len(load)

    end = await wait_done(server, done, timeout=900)
    result = PhaseResult(name, messages=len(load), seconds=end - start)
    result.cpu_ms = (bot.cpu_seconds() - cpu_before) * 1000 / len(load)  # includes the 1 s quiet wait
    result.per_second = len(load) / result.seconds
    answers = sum(len(v) for v in replies_to(server, user_set, since).values())
    staff = sum(
        1
        for c in server.calls[since:]
        if c.ok and c.message is not None and c.message.chat_id == server.staff_chat_id
    )
    result.notes.append(
        f"burst: {len(load)} messages in {result.seconds:.2f}s, "
        f"{answers / len(load):.2f} answers per message, {staff} messages to the staff chat"
    )
    return result


async def steady(
    server: Any,
    name: str,
    users: list[int],
    messages: int,
    risky: float,
    rate: float,
    progress: Progress | None,
    handled_before: int = 0,
    case_owner: Any = None,
) -> PhaseResult:
    """Open-loop arrivals at ``rate`` messages a second in total, round-robin over the users."""
    load = plan(users, messages, risky, seed=2)
    # message i of every user, then message i+1...: each user writes every len(users)/rate seconds
    order = sorted(range(len(load)), key=lambda i: (i % messages, i // messages))
    since = len(server.calls)
    sent: list[Sent] = []
    start = time.monotonic()
    for n, index in enumerate(order):
        target = start + n / rate
        delay = target - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        user, text, is_risky = load[index]
        server.user_sends_text(user, text)
        sent.append(Sent(user, text, time.monotonic(), is_risky))
    user_set = set(users)

    async def done() -> bool:
        if server.pending_updates:
            return False
        if progress is not None:
            return await progress.done(handled_before + len(sent))
        return sum(len(v) for v in replies_to(server, user_set, since).values()) >= len(sent)

    end = await wait_done(server, done, timeout=900)
    result = PhaseResult(name, messages=len(sent), seconds=end - start)
    result.per_second = len(sent) / result.seconds
    got = replies_to(server, user_set, since)
    # time to the first answer, for messages answered before the person wrote again (a message
    # relayed to a counsellor gets no answer from the bot)
    next_at: dict[int, float] = {}
    latencies = []
    for s in reversed(sent):
        limit = next_at.get(s.user, float("inf"))
        after = [t for t in got.get(s.user, ()) if s.at < t < limit]
        if after:
            latencies.append(min(after) - s.at)
        next_at[s.user] = s.at
    result.reply_p50, result.reply_p95 = pct(latencies, 50), pct(latencies, 95)
    if case_owner is not None:
        cards = card_times(server, since)
        owners = await case_owner(list(cards))
        card_lat = []
        first_risky: dict[int, Sent] = {}
        for s in sent:
            if s.risky and s.user not in first_risky:
                first_risky[s.user] = s
        result.risky = len(first_risky)
        for case_id, at in cards.items():
            user = owners.get(case_id)
            if user in first_risky:
                card_lat.append(at - first_risky[user].at)
        result.cards = len(card_lat)
        result.card_p50, result.card_p95 = pct(card_lat, 50), pct(card_lat, 95)
    return result


def card_times(server: Any, since: int) -> dict[int, float]:
    """Case id -> when its card reached the staff chat (the first message with a Claim button)."""
    out: dict[int, float] = {}
    for call in server.calls[since:]:
        if not call.ok or call.message is None or call.message.chat_id != server.staff_chat_id:
            continue
        markup = call.params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard") or []:
            for button in row:
                data = button.get("callback_data", "")
                if data.startswith("claim:") and call.method == "sendMessage":
                    out.setdefault(int(data.split(":")[1]), call.at)
    return out


def case_owner_lookup(database_url: str, users: list[int]) -> Any:
    async def lookup(case_ids: list[int]) -> dict[int, int]:
        from sqlalchemy import select

        from bot.privacy import Pseudonymizer
        from bot.storage.db import make_engine, session_factory
        from bot.storage.models import Case, Person

        pseudo = Pseudonymizer(SECRET)
        by_pseudonym = {pseudo.pseudonym("telegram", str(u)): u for u in users}
        engine = make_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                rows = await session.execute(
                    select(Case.id, Person.pseudonym)
                    .join(Person, Person.id == Case.person_id)
                    .where(Case.id.in_(case_ids))
                )
                return {case_id: by_pseudonym[p] for case_id, p in rows if p in by_pseudonym}
        finally:
            await engine.dispose()

    return lookup


async def pg_database() -> tuple[str, str] | None:
    try:
        import asyncpg

        name = f"helpline_bench_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
    except Exception as exc:
        print(f"PostgreSQL unavailable ({type(exc).__name__}); skipping it", file=sys.stderr)
        return None
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return name, f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)


async def drop_pg(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


def fmt(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if unit == "s" and value < 1 else f"{value:.2f} {unit}"


async def main(args: argparse.Namespace) -> int:
    from tests.botapi import DEFAULT_STAFF_CHAT_ID, DEFAULT_TOKEN, BotAPIServer

    members = {501: "administrator"}
    results: list[PhaseResult] = []
    work = Path(tempfile.mkdtemp(prefix="tg-bench-"))
    data_dir = Path(args.data_dir) if args.data_dir else work
    async with BotAPIServer(staff_members=members, max_poll_timeout=1.0) as server:
        base = server.base_url
        next_user = iter(range(10_000, 10**9, 10_000))

        def users(n: int) -> list[int]:
            first = next(next_user)
            return list(range(first, first + n))

        print(
            f"echo bot: burst {args.users}x{args.messages}, "
            f"steady {args.steady_users}x{args.steady_messages} at {args.rate}/s",
            file=sys.stderr,
        )
        async with BotProcess(["--serve", "echo", base, DEFAULT_TOKEN]) as echo:
            b = await burst(server, "echo", users(args.users), args.messages, 0.0, None, echo)
            s = await steady(
                server, "echo", users(args.steady_users), args.steady_messages, 0.0, args.rate, None
            )
        b.reply_p50, b.reply_p95 = s.reply_p50, s.reply_p95
        results.append(b)
        echo_rate = b.per_second

        for db in args.db:
            if db == "sqlite":
                url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
                drop = None
            else:
                made = await pg_database()
                if made is None:
                    continue
                drop, url = made
            print(f"full bot on {db}", file=sys.stderr)
            burst_users, steady_users = users(args.users), users(args.steady_users)
            bot_args = ["--serve", "bot", base, DEFAULT_TOKEN, str(DEFAULT_STAFF_CHAT_ID), url, str(data_dir)]
            async with BotProcess(bot_args) as bot:
                progress = Progress(url)
                try:
                    b = await burst(
                        server, f"bot/{db}", burst_users, args.messages, args.risky, progress, bot
                    )
                    s = await steady(
                        server,
                        f"bot/{db}",
                        steady_users,
                        args.steady_messages,
                        args.risky,
                        args.rate,
                        progress,
                        handled_before=b.messages,
                        case_owner=case_owner_lookup(url, steady_users),
                    )
                finally:
                    await progress.close()
            b.reply_p50, b.reply_p95 = s.reply_p50, s.reply_p95
            b.card_p50, b.card_p95, b.cards, b.risky = s.card_p50, s.card_p95, s.cards, s.risky
            b.notes.append(f"steady: {s.messages} messages in {s.seconds:.1f}s")
            results.append(b)
            if drop:
                await drop_pg(drop)
        if server.violations:
            print(f"WARNING: {len(server.violations)} Bot API calls Telegram would reject", file=sys.stderr)

    print()
    print(
        f"| bot | messages/s (burst of {args.users}x{args.messages}) | vs echo | CPU per message | vs echo "
        f"| first answer p50 / p95 (steady {args.rate}/s) | message -> case card p50 / p95 |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results:
        ratio = f"{r.per_second / echo_rate:.2f}" if echo_rate else "-"
        card = f"{fmt(r.card_p50)} / {fmt(r.card_p95)} ({r.cards} of {r.risky} cases)" if r.risky else "-"
        echo_cpu = results[0].cpu_ms
        cpu_ratio = f"{echo_cpu / r.cpu_ms:.2f}" if echo_cpu and r.cpu_ms else "-"
        print(
            f"| {r.name} | {r.per_second:.1f} | {ratio} | {r.cpu_ms:.2f} ms | {cpu_ratio} "
            f"| {fmt(r.reply_p50)} / {fmt(r.reply_p95)} | {card} |"
        )
    print()
    for r in results:
        print(f"- {r.name}: " + "; ".join(r.notes))
    if args.json:
        with open(args.json, "w") as out:  # noqa: ASYNC230 - once, at the end
            json.dump([r.__dict__ for r in results], out, indent=2)
    return 0


def cli() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        kind, rest = sys.argv[2], sys.argv[3:]
        if kind == "echo":
            asyncio.run(serve_echo(*rest))
        else:
            base, token, staff, url, data_dir = rest
            asyncio.run(serve_bot(base, token, int(staff), url, data_dir))
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--risky", type=float, default=0.1, help="share of users who write something risky")
    parser.add_argument("--steady-users", type=int, default=100)
    parser.add_argument("--steady-messages", type=int, default=3)
    parser.add_argument("--rate", type=float, default=20.0, help="steady load, messages per second")
    parser.add_argument("--db", type=lambda s: s.split(","), default=["sqlite", "postgres"])
    parser.add_argument("--data-dir", help="where the triage model is cached (default: a temporary dir)")
    parser.add_argument("--json", help="also write the results here")
    return asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(cli())
