"""Command line: ``python -m bot --help``.

Wrong settings, an unreachable database, invalid content or a second bot on one SQLite file stop
the command with one line naming the problem and exit code 2 (never a traceback).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from bot.config import ConfigError, Settings, load_settings
from bot.texts import ContentInvalid

log = logging.getLogger(__name__)


class Stop(Exception):
    """A problem to report in one line (exit code 2)."""

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Azerbaijan Child Helpline (116111) first-line chatbot.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="migrate and run the configured channels (terminal chat if none)")
    chat = sub.add_parser("chat", help="chat with the bot in the terminal")
    chat.add_argument("--jsonl", action="store_true", help="scriptable: JSON lines on stdin and stdout")
    chat.add_argument("--user", default="terminal-user", help="who you are in the interactive chat")
    staff = sub.add_parser("staff", help="counsellor console over the same database")
    staff.add_argument("--name", default=None, help="your name as colleagues see it (never shown to people)")
    staff.add_argument("--lang", default="az", choices=("az", "ru", "en"))
    db = sub.add_parser("db", help="database commands")
    db.add_argument("action", choices=("upgrade", "current", "purge"))
    db.add_argument("--days", type=int, default=7, help="purge: keep this many days of delivery records")
    sub.add_parser("triage", help='triage JSON lines from stdin ({"text": ...}) to stdout')
    evaluate = sub.add_parser("triage-eval", help="evaluate triage on the held-out split")
    evaluate.add_argument("--labels", type=Path, help="counsellors' labels (from triage-learn): before/after")
    evaluate.add_argument(
        "--data",
        type=Path,
        help="score this labelled JSON-lines file instead (a blind batch: messages and conversations)",
    )
    evaluate.add_argument("--misses", action="store_true", help="list what was missed (not on a first pass)")
    learn = sub.add_parser("triage-learn", help="export the counsellors' triage labels for retraining")
    learn.add_argument("--out", type=Path, help="where to write them (default: DATA_DIR/triage_labels.jsonl)")
    report = sub.add_parser("report", help="the helpline's figures for a period")
    report.add_argument(
        "--from", dest="date_from", help="first day, YYYY-MM-DD (default: first of this month)"
    )
    report.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD (default: today)")
    form = report.add_mutually_exclusive_group()
    form.add_argument("--csv", action="store_true", help="CSV instead of the table")
    form.add_argument("--text", action="store_true", help="a short Azerbaijani paragraph")
    report.add_argument("--chart", metavar="FILE", help="write a PNG chart to FILE")
    report.add_argument(
        "--scheme",
        choices=("helpline", "chi"),
        default="helpline",
        help="category scheme: the helpline's own or Child Helpline International's",
    )
    # --- Rasa (bot/channels/rasa) ---
    rasa = sub.add_parser(
        "rasa-actions", help="serve the helpline's Rasa custom actions (rasa-sdk action server)"
    )
    rasa.add_argument("--port", type=int, default=5055, help="port of the action server (default 5055)")
    rasa.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: keep it private to Rasa)",
    )
    # --- end Rasa ---
    return parser


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.captureWarnings(True)
    for noisy in ("alembic", "aiogram.event", "sqlalchemy.engine", "aiosqlite", "asyncio", "py.warnings"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def _quiet_for_terminal() -> None:
    """The interactive chat shares the terminal with the logs: keep only warnings and errors."""
    root = logging.getLogger()
    root.setLevel(max(root.level, logging.WARNING))


def _database_problem(exc: BaseException) -> str | None:
    """One line for a database that cannot be reached or opened (no URL, so no password, in it)."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        cause = exc.orig.__class__.__name__ if exc.orig is not None else type(exc).__name__
        return f"database error: DATABASE_URL: cannot use the database ({cause})"
    if isinstance(exc, OSError | TimeoutError):
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        return f"database error: DATABASE_URL: cannot connect ({reason})"
    name = type(exc).__module__
    if name.startswith("asyncpg"):
        return f"database error: DATABASE_URL: {type(exc).__name__}"
    return None


async def _with_app(settings: Settings, work: Callable[[Any], Awaitable[int]], **kw: Any) -> int:
    from bot.app import build_app

    try:
        app = await build_app(settings, **kw)
    except Exception as exc:
        problem = _database_problem(exc)
        if problem is None:
            raise
        raise Stop(problem) from exc
    try:
        return await work(app)
    finally:
        await app.close()


def _lock(settings: Settings) -> Any:
    from bot.storage.db import AlreadyRunning, ProcessLock

    lock = ProcessLock(settings.database_url)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        raise Stop(f"error: {exc}") from exc
    return lock


async def _run(settings: Settings) -> int:
    from bot.runner import configured_channels, serve

    lock = _lock(settings)

    async def work(app: Any) -> int:
        channels = configured_channels(app)
        if channels:
            return await serve(app, channels)
        _quiet_for_terminal()
        from bot.channels.terminal import run_chat

        sys.stdout.write(app.content.t("cli.telegram_hint") + "\n")
        return await run_chat(app, user="terminal-user")

    try:
        return await _with_app(settings, work)
    finally:
        lock.release()


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "triage":
        from bot.triage.cli import run_triage

        return run_triage(sys.stdin, sys.stdout, _cache_dir())
    if args.command == "triage-eval":
        from bot.triage.cli import run_eval

        for option, path in (("--labels", args.labels), ("--data", args.data)):
            if path is not None and not path.is_file():
                sys.stderr.write(f"triage-eval: {option} {path}: no such file\n")
                return 2
        return run_eval(sys.stdout, _cache_dir(), extra=args.labels, show_misses=args.misses, data=args.data)
    if args.command == "rasa-actions" and not _rasa_installed():  # --- Rasa ---
        sys.stderr.write('rasa-actions: the Rasa extra is not installed: pip install -e ".[rasa]"\n')
        return 2
    try:
        settings = load_settings()
        _setup_logging(settings)
        return asyncio.run(_dispatch(args, settings))
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc.setting}: {exc.problem}\n")
        return 2
    except ContentInvalid as exc:
        sys.stderr.write("content error: " + "; ".join(str(e) for e in exc.errors[:5]) + "\n")
        return 2
    except Stop as exc:
        sys.stderr.write(exc.line + "\n")
        return 2
    except KeyboardInterrupt:
        return 130


def _rasa_installed() -> bool:  # --- Rasa (bot/channels/rasa) ---
    try:
        import rasa_sdk  # noqa: F401
    except ImportError:
        return False
    return True


def _cache_dir() -> Path | None:
    try:
        return load_settings().cache_dir
    except ConfigError:
        return None


def _staff_name(given: str | None) -> str:
    if given:
        return given.strip()[:64] or "?"
    if sys.stdin.isatty():
        from bot.texts import load_content

        sys.stdout.write(load_content(validate=False).t("staff.ask_name") + " ")
        sys.stdout.flush()
        name = sys.stdin.readline().strip()
        if name:
            return name[:64]
    return getpass.getuser()


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot.channels import terminal

    if args.command == "run":
        return await _run(settings)
    if args.command == "chat":
        lock = _lock(settings)
        try:
            if args.jsonl:
                return await _with_app(settings, lambda app: terminal.run_jsonl(app, sys.stdin, sys.stdout))
            _quiet_for_terminal()
            return await _with_app(settings, lambda app: terminal.run_chat(app, args.user))
        finally:
            lock.release()
    if args.command == "staff":
        name = _staff_name(args.name)
        return await _with_app(
            settings, lambda app: terminal.run_staff(app, name, lang=args.lang), triager=_NoTriage()
        )
    if args.command == "db":
        return await _db(args, settings)
    if args.command == "rasa-actions":  # --- Rasa (bot/channels/rasa) ---
        from bot.channels.rasa.server import serve_actions

        return await _with_app(settings, lambda app: serve_actions(app, args.host, args.port))
    if args.command == "triage-learn":
        from bot.triage_labels import export_labels

        out = args.out or settings.data_dir / "triage_labels.jsonl"

        async def export(app: Any) -> int:
            count = await export_labels(app, out)
            sys.stdout.write(f"{count} label(s) written to {out}\n")
            return 0

        return await _with_app(settings, export, triager=_NoTriage())
    if args.command == "report":
        from bot.reports import run_report_command

        return await _with_app(settings, lambda app: run_report_command(app, args), triager=_NoTriage())
    raise AssertionError(args.command)


async def _db(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "purge":
        from datetime import timedelta

        from bot.jobs import housekeeping

        async def purge(app: Any) -> int:
            removed = await housekeeping(app, timedelta(days=max(0, args.days)))
            sys.stdout.write(" ".join(f"{k}={v}" for k, v in removed.items()) + "\n")
            return 0

        return await _with_app(settings, purge, triager=_NoTriage())
    from bot.storage.db import current_revision, make_engine, upgrade

    engine = make_engine(settings.database_url)
    try:
        if args.action == "upgrade":
            await upgrade(engine)
        sys.stdout.write(f"schema revision: {await current_revision(engine)}\n")
    except Exception as exc:
        problem = _database_problem(exc)
        if problem is None:
            raise
        raise Stop(problem) from exc
    finally:
        await engine.dispose()
    return 0


class _NoTriage:
    """The staff console and reports never triage; skip training the model for them."""

    def analyze(self, text, prior=(), history=()):  # pragma: no cover - never called
        raise RuntimeError("triage is not available in this command")
