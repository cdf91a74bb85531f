"""Command line: ``python -m bot --help``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence

from bot.config import ConfigError, Settings, load_settings
from bot.texts import ContentInvalid


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
    staff.add_argument("--name", default=None, help="counsellor's name shown in the queue")
    staff.add_argument("--lang", default="az", choices=("az", "ru", "en"))
    db = sub.add_parser("db", help="database commands")
    db.add_argument("action", choices=("upgrade", "current", "purge"))
    db.add_argument("--days", type=int, default=7, help="purge: keep this many days of delivery records")
    sub.add_parser("triage", help='triage JSON lines from stdin ({"text": ...}) to stdout')
    sub.add_parser("triage-eval", help="evaluate triage on the held-out split")
    report = sub.add_parser("report", help="the helpline's figures for a period")
    report.add_argument(
        "--from", dest="date_from", help="first day, YYYY-MM-DD (default: first of this month)"
    )
    report.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD (default: today)")
    report.add_argument("--csv", action="store_true", help="CSV instead of the table")
    report.add_argument("--text", action="store_true", help="a short Azerbaijani paragraph")
    report.add_argument("--chart", metavar="FILE", help="write a PNG chart to FILE")
    report.add_argument(
        "--scheme",
        choices=("helpline", "chi"),
        default="helpline",
        help="category scheme: the helpline's own or Child Helpline International's",
    )
    return parser


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("alembic", "aiogram.event", "sqlalchemy.engine", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def _quiet_for_terminal() -> None:
    """The interactive chat shares the terminal with the logs: keep only warnings and errors."""
    root = logging.getLogger()
    root.setLevel(max(root.level, logging.WARNING))


async def _with_app(settings: Settings, coro_factory, **kw):
    from bot.app import build_app

    app = await build_app(settings, **kw)
    try:
        return await coro_factory(app)
    finally:
        await app.close()


async def _run(settings: Settings) -> int:
    from bot.app import build_app

    if not settings.telegram_enabled:
        _quiet_for_terminal()
    app = await build_app(settings)
    try:
        if settings.telegram_enabled:
            from bot.channels.telegram import run_telegram

            return await run_telegram(app)
        from bot.channels.terminal import run_chat

        sys.stdout.write(app.content.t("cli.telegram_hint") + "\n")
        return await run_chat(app, user="terminal-user")
    finally:
        await app.close()


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

        return run_eval(sys.stdout, _cache_dir())
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
    except KeyboardInterrupt:
        return 130


def _cache_dir():
    try:
        return load_settings().cache_dir
    except ConfigError:
        return None


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot.channels import terminal

    if args.command == "run":
        return await _run(settings)
    if args.command == "chat":
        if args.jsonl:
            return await _with_app(settings, lambda app: terminal.run_jsonl(app, sys.stdin, sys.stdout))
        _quiet_for_terminal()
        return await _with_app(settings, lambda app: terminal.run_chat(app, args.user))
    if args.command == "staff":
        name = args.name or getpass.getuser()
        return await _with_app(
            settings, lambda app: terminal.run_staff(app, name, lang=args.lang), triager=_NoTriage()
        )
    if args.command == "db":
        from bot.storage.db import current_revision, make_engine, upgrade

        if args.action == "purge":
            from datetime import timedelta

            async def purge(app) -> int:
                removed = await app.engine.purge(timedelta(days=max(0, args.days)))
                sys.stdout.write(" ".join(f"{k}={v}" for k, v in removed.items()) + "\n")
                return 0

            return await _with_app(settings, purge, triager=_NoTriage())
        engine = make_engine(settings.database_url)
        try:
            if args.action == "upgrade":
                await upgrade(engine)
            sys.stdout.write(f"schema revision: {await current_revision(engine)}\n")
        finally:
            await engine.dispose()
        return 0
    if args.command == "report":
        from bot.reports import run_report_command

        return await _with_app(settings, lambda app: run_report_command(app, args), triager=_NoTriage())
    raise AssertionError(args.command)


class _NoTriage:
    """The staff console and reports never triage; skip training the model for them."""

    def analyze(self, text, prior=()):  # pragma: no cover - never called
        raise RuntimeError("triage is not available in this command")
