"""``python -m bot report`` and ``/report`` in the staff chat."""

from __future__ import annotations

import calendar
import re
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.domain import Audience
from bot.reports.figures import MAX_STAFF_MONTHS, SCHEMES, build_report, helpline_today, months_between
from bot.reports.render import render_chart, render_csv, render_table, render_text

if TYPE_CHECKING:
    from bot.app import App


# ---------------------------------------------------------------------------------------------
# Command line and staff chat
# ---------------------------------------------------------------------------------------------

_DAY_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse_day(text: str) -> date:
    """YYYY-MM-DD; raises ValueError."""
    if not _DAY_RE.match(text.strip()):
        raise ValueError(text)
    return date.fromisoformat(text.strip())


def _month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _parse_bound(text: str, end: bool) -> date:
    """YYYY-MM (the first or last day of the month) or YYYY-MM-DD; raises ValueError."""
    m = _MONTH_RE.match(text)
    if m:
        first = date(int(m.group(1)), int(m.group(2)), 1)
        return _month_end(first) if end else first
    return parse_day(text)


def parse_staff_range(arg_text: str, today: date) -> tuple[date, date]:
    """'' -> this month up to today; 'A' -> that month (or day); 'A B' -> from A to B.

    A and B are YYYY-MM or YYYY-MM-DD. Raises ValueError for anything else, a reversed range or a
    range longer than MAX_STAFF_MONTHS months.
    """
    parts = arg_text.split()
    if parts and parts[0].startswith("/"):  # the command itself, e.g. "/report@helpline_bot"
        parts = parts[1:]
    if not parts:
        return today.replace(day=1), today
    if len(parts) > 2:
        raise ValueError(arg_text)
    date_from = _parse_bound(parts[0], end=False)
    date_to = _parse_bound(parts[-1], end=True)
    if date_from > date_to:
        raise ValueError(arg_text)
    if len(months_between(date_from, date_to)) > MAX_STAFF_MONTHS:
        raise ValueError(arg_text)
    return date_from, date_to


async def staff_report(app: App, arg_text: str, lang: str = "az", today: date | None = None) -> str:
    """The answer to ``/report [FROM [TO]]`` in the staff chat: the table and the paragraph.

    The channel adapter must call this only for messages in the staff chat.
    """
    today = today or helpline_today()
    try:
        date_from, date_to = parse_staff_range(arg_text or "", today)
    except ValueError:
        return app.content.t("report.usage", lang, Audience.ADULT)
    report = await build_report(app.sessions, date_from, date_to)
    return render_table(report, app.content, lang) + "\n" + render_text(report, app.content, lang)


async def run_report_command(app: App, args: Any) -> int:
    """``python -m bot report [--from D] [--to D] [--csv] [--text] [--chart FILE] [--scheme S]``.

    Prints the table (or the CSV and/or the paragraph); bad dates: one line on stderr, exit code 2.
    """
    today = helpline_today()
    scheme = getattr(args, "scheme", None) or "helpline"
    try:
        date_to = parse_day(args.date_to) if args.date_to else today
    except ValueError:
        sys.stderr.write(f"report: --to {args.date_to!r} is not a date; use YYYY-MM-DD\n")
        return 2
    try:
        date_from = parse_day(args.date_from) if args.date_from else date_to.replace(day=1)
    except ValueError:
        sys.stderr.write(f"report: --from {args.date_from!r} is not a date; use YYYY-MM-DD\n")
        return 2
    if date_from > date_to:
        sys.stderr.write(f"report: --from {date_from} is after --to {date_to}\n")
        return 2
    if scheme not in SCHEMES:
        sys.stderr.write(f"report: unknown --scheme {scheme!r}; use {' or '.join(SCHEMES)}\n")
        return 2

    chart = getattr(args, "chart", None)
    if chart:
        problem = _unwritable(Path(chart))
        if problem:
            sys.stderr.write(f"report: cannot write the chart to {chart}: {problem}\n")
            return 2
    report = await build_report(app.sessions, date_from, date_to)
    content = app.content
    outputs = []
    if getattr(args, "csv", False):
        outputs.append(render_csv(report, content, scheme))
    if getattr(args, "text", False):
        outputs.append(render_text(report, content) + "\n")
    if not outputs:
        outputs.append(render_table(report, content, scheme=scheme))
    if chart:
        try:
            render_chart(report, content, chart, scheme=scheme)
        except OSError as exc:
            sys.stderr.write(f"report: cannot write the chart to {chart}: {exc.strerror or exc}\n")
            return 2
    sys.stdout.write("\n".join(outputs))
    if chart:
        sys.stderr.write(f"report: chart written to {chart}\n")
    return 0


def _unwritable(path: Path) -> str | None:
    """Why a file cannot be written at ``path`` (checked before any work is done), or None."""
    import os

    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        return "it is a folder"
    if not folder.is_dir():
        return "no such folder"
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "permission denied"
    return None
