"""The helpline's figures for a period: ``python -m bot report`` and ``/report`` in the staff chat.

Everything is counted from the anonymous records that survive /forget (conversations and cases keep
their facts with ``person_id`` NULL; only messages and the person's profile are deleted), so a
report for a past period does not change when someone deletes their data.

Definitions (dates are inclusive days in the helpline's time zone, Asia/Baku, UTC+4: the period
runs from ``date_from`` 00:00 Baku time to the midnight after ``date_to``):

* contact: a conversation started in the period (``conversations.started_at``) with at least one
  message from the person (``conversations.message_count > 0``);
* people: distinct ``conversations.person_token`` among the contacts (the random anonymous token
  survives /forget, so a person who wrote twice counts once);
* category: ``cases.category`` of the contact's case (NULL counts as ``other``). With
  ``scheme="chi"`` the contact is counted in one Child Helpline International category by the rule
  in ``bot/content/chi_categories.yaml`` (the first listed topic the case has, else its category);
* who wrote: ``conversations.audience`` (child / adult / unknown);
* gender: ``conversations.gender`` (female / male / unknown when not given);
* channel: ``conversations.channel``; risk: ``cases.risk`` (the highest the case reached);
* month: the Baku-time month of ``started_at``;
* escalated: contacts whose case has ``waiting_since`` set (went to the counsellor queue, for risk
  or on request); claimed: of those, the ones with ``claimed_at`` not before ``waiting_since``;
  time to claim = ``claimed_at - waiting_since`` in minutes, its median and 90th percentile
  (linear interpolation between closest ranks, as numpy's default);
* closed: cases with ``closed_at`` in the period, whatever the contact's start, except those the
  bot closed itself after a day of silence (``outcome = 'idle'``); closed by counsellors: those a
  counsellor closed (``closed_by_id`` set); outcomes: how the counsellors closed them (family
  meetings planned, rehabilitation started, referrals ... as the helpline reports them);
* self-help: article ratings given in the period (``article_ratings``) and how many said it helped.

The counting runs in Python over one query of non-identifying columns (no ids, no text) plus SQL
``COUNT``/``SUM`` for people and closed cases; it runs unchanged on SQLite and PostgreSQL.

All words come from ``bot/content/strings/report.<lang>.yaml`` and the labels in
``taxonomy.yaml`` / ``chi_categories.yaml``; numbers are grouped with a space (2 386).
"""

from __future__ import annotations

import calendar
import csv
import io
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy
import yaml
from sqlalchemy import case as sql_case
from sqlalchemy import distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain import LANGUAGES, Audience, Category, CloseOutcome, Risk
from bot.lifecycle import COUNSELLOR_OUTCOMES
from bot.storage.models import ArticleRating, Case, Conversation
from bot.texts import CONTENT_DIR, Content, ContentInvalid

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bot.app import App

HELPLINE_TZ = ZoneInfo("Asia/Baku")
SCHEMES = ("helpline", "chi")
CATEGORY_CODES = tuple(c.value for c in Category)
AUDIENCE_CODES = ("child", "adult", "unknown")
GENDER_CODES = ("female", "male", "unknown")
RISK_CODES = tuple(r.value for r in Risk)
OUTCOME_CODES = tuple(o.value for o in COUNSELLOR_OUTCOMES)
MAX_STAFF_MONTHS = 24  # /report in the staff chat: longer ranges would not fit in one message


# ---------------------------------------------------------------------------------------------
# The figures
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """All figures for one period. Dicts keep a fixed order (the order the report prints)."""

    date_from: date
    date_to: date
    contacts: int = 0
    people: int = 0
    by_category: dict[str, int] = field(default_factory=dict)  # the six helpline codes
    by_chi: dict[str, int] = field(default_factory=dict)  # CHI codes, as in chi_categories.yaml
    by_month: dict[str, int] = field(default_factory=dict)  # "YYYY-MM" -> contacts, every month
    by_audience: dict[str, int] = field(default_factory=dict)  # child / adult / unknown
    by_gender: dict[str, int] = field(default_factory=dict)  # female / male / unknown
    by_channel: dict[str, int] = field(default_factory=dict)  # most contacts first
    by_risk: dict[str, int] = field(default_factory=dict)  # none / elevated / urgent / imminent
    escalated: int = 0
    claimed: int = 0
    claim_minutes_median: float | None = None
    claim_minutes_p90: float | None = None
    closed: int = 0
    closed_by_counsellor: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)  # counsellors' outcomes, in their order
    articles_rated: int = 0
    articles_helpful: int = 0

    def categories(self, scheme: str = "helpline") -> dict[str, int]:
        return self.by_chi if scheme == "chi" else self.by_category


def period_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC for the Baku-time days ``date_from`` .. ``date_to`` inclusive."""
    start = datetime.combine(date_from, time(0), HELPLINE_TZ).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time(0), HELPLINE_TZ).astimezone(UTC)
    return start, end


def helpline_today() -> date:
    return datetime.now(HELPLINE_TZ).date()


def months_between(date_from: date, date_to: date) -> list[str]:
    months = []
    y, m = date_from.year, date_from.month
    while (y, m) <= (date_to.year, date_to.month):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def quantile(values: list[float], q: float) -> float | None:
    """numpy's linear interpolation between closest ranks; None for no values."""
    return float(numpy.quantile(values, q)) if values else None


async def build_report(sessions: async_sessionmaker[AsyncSession], date_from: date, date_to: date) -> Report:
    """Count the figures for the Baku-time days ``date_from`` .. ``date_to`` (inclusive)."""
    if date_from > date_to:
        raise ValueError(f"date_from {date_from} is after date_to {date_to}")
    start, end = period_bounds(date_from, date_to)
    chi = load_chi()
    in_period = (
        Conversation.started_at >= start,
        Conversation.started_at < end,
        Conversation.message_count > 0,
    )
    async with sessions() as session:
        rows = (
            await session.execute(
                select(
                    Conversation.started_at,
                    Conversation.audience,
                    Conversation.gender,
                    Conversation.channel,
                    Case.category,
                    Case.risk,
                    Case.topics,
                    Case.waiting_since,
                    Case.claimed_at,
                )
                .select_from(Conversation)
                .outerjoin(Case, Case.conversation_id == Conversation.id)
                .where(*in_period)
            )
        ).all()
        people = await session.scalar(
            select(func.count(distinct(Conversation.person_token))).where(*in_period)
        )
        by_counsellor = sql_case((Case.closed_by_id.is_not(None), 1), else_=0)
        closed_in_period = (
            Case.closed_at >= start,
            Case.closed_at < end,
            or_(Case.outcome.is_(None), Case.outcome != CloseOutcome.IDLE.value),
        )
        closed_row = (
            await session.execute(
                select(func.count(Case.id), func.sum(by_counsellor)).where(*closed_in_period)
            )
        ).one()
        outcomes = dict(
            (
                await session.execute(
                    select(Case.outcome, func.count(Case.id))
                    .where(*closed_in_period, Case.closed_by_id.is_not(None))
                    .group_by(Case.outcome)
                )
            ).all()
        )
        helpful = sql_case((ArticleRating.helpful.is_(True), 1), else_=0)
        rated_row = (
            await session.execute(
                select(func.count(ArticleRating.id), func.sum(helpful)).where(
                    ArticleRating.rated_at >= start, ArticleRating.rated_at < end
                )
            )
        ).one()

    by_category: Counter[str] = Counter()
    by_chi: Counter[str] = Counter()
    by_month: Counter[str] = Counter()
    by_audience: Counter[str] = Counter()
    by_gender: Counter[str] = Counter()
    by_channel: Counter[str] = Counter()
    by_risk: Counter[str] = Counter()
    escalated = 0
    claim_minutes: list[float] = []
    for started_at, audience, gender, channel, category, risk, topics, waiting_since, claimed_at in rows:
        category = category if category in CATEGORY_CODES else Category.OTHER.value
        by_category[category] += 1
        by_chi[chi.classify(category, topics)] += 1
        by_month[started_at.astimezone(HELPLINE_TZ).strftime("%Y-%m")] += 1
        by_audience[audience if audience in AUDIENCE_CODES else "unknown"] += 1
        by_gender[gender if gender in GENDER_CODES else "unknown"] += 1
        by_channel[channel or "unknown"] += 1
        by_risk[risk if risk in RISK_CODES else Risk.NONE.value] += 1
        if waiting_since is not None:
            escalated += 1
            if claimed_at is not None and claimed_at >= waiting_since:
                claim_minutes.append((claimed_at - waiting_since).total_seconds() / 60)

    def ordered(counter: Counter[str], codes: tuple[str, ...] | list[str]) -> dict[str, int]:
        return {code: counter.get(code, 0) for code in codes}

    return Report(
        date_from=date_from,
        date_to=date_to,
        contacts=len(rows),
        people=int(people or 0),
        by_category=ordered(by_category, CATEGORY_CODES),
        by_chi=ordered(by_chi, tuple(chi.labels)),
        by_month=ordered(by_month, months_between(date_from, date_to)),
        by_audience=ordered(by_audience, AUDIENCE_CODES),
        by_gender=ordered(by_gender, GENDER_CODES),
        by_channel=dict(sorted(by_channel.items(), key=lambda kv: (-kv[1], kv[0]))),
        by_risk=ordered(by_risk, RISK_CODES),
        escalated=escalated,
        claimed=len(claim_minutes),
        claim_minutes_median=quantile(claim_minutes, 0.5),
        claim_minutes_p90=quantile(claim_minutes, 0.9),
        closed=int(closed_row[0] or 0),
        closed_by_counsellor=int(closed_row[1] or 0),
        by_outcome={code: int(outcomes.get(code, 0)) for code in OUTCOME_CODES},
        articles_rated=int(rated_row[0] or 0),
        articles_helpful=int(rated_row[1] or 0),
    )


# ---------------------------------------------------------------------------------------------
# Child Helpline International categories
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChiScheme:
    labels: dict[str, dict[str, str]]  # CHI code -> {chi, az, ru, en}, in report order
    topics: dict[str, str]  # topic code -> CHI code, in priority order
    categories: dict[str, str]  # helpline category -> CHI code

    def classify(self, category: str | None, topics: list[Any] | tuple[Any, ...] | None) -> str:
        """One CHI code for a contact: the first listed topic it has, else its category."""
        present = {t for t in topics or () if isinstance(t, str)}
        for topic, code in self.topics.items():
            if topic in present:
                return code
        return self.categories.get(category or Category.OTHER.value) or self.categories[Category.OTHER.value]

    def label(self, code: str, lang: str) -> str:
        info = self.labels[code]
        return info.get(lang) or info["en"]


@lru_cache(maxsize=4)
def load_chi(content_dir: Path | None = None) -> ChiScheme:
    """Read and check ``chi_categories.yaml``; raises :class:`ContentInvalid` naming the problem."""
    path = (content_dir or CONTENT_DIR) / "chi_categories.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ContentInvalid([f"{path}: {exc}"]) from exc
    errors: list[str] = []
    labels = raw.get("chi_categories") or {}
    topics = raw.get("topics") or {}
    categories = raw.get("categories") or {}
    if not isinstance(labels, dict) or not labels:
        errors.append(f"{path}: 'chi_categories' must list CHI's categories")
        labels = {}
    for code, info in labels.items():
        if not isinstance(info, dict) or not all(isinstance(info.get(k), str) for k in ("chi", *LANGUAGES)):
            errors.append(f"{path}: CHI category '{code}' needs chi, az, ru and en labels")
    for section, mapping in (("topics", topics), ("categories", categories)):
        if not isinstance(mapping, dict):
            errors.append(f"{path}: '{section}' must be a mapping")
            continue
        for key, code in mapping.items():
            if code not in labels:
                errors.append(f"{path}: {section}.{key}: unknown CHI category '{code}'")
    if isinstance(categories, dict):
        for code in CATEGORY_CODES:
            if code not in categories:
                errors.append(f"{path}: categories: the helpline category '{code}' is not mapped")
    if errors:
        raise ContentInvalid(errors)
    return ChiScheme(
        labels={str(k): dict(v) for k, v in labels.items()},
        topics={str(k): str(v) for k, v in topics.items()},
        categories={str(k): str(v) for k, v in categories.items()},
    )


# ---------------------------------------------------------------------------------------------
# Numbers and words
# ---------------------------------------------------------------------------------------------


def group_thousands(n: int) -> str:
    """2386 -> '2 386' (Azerbaijani press style; also used for ru and en)."""
    return f"{n:,}".replace(",", " ")


def last_spoken_unit(n: int) -> int:
    """The number whose word is said last: 2386 -> 6, 340 -> 40, 1500 -> 100, 2000 -> 1000.

    Units if not zero, else tens, else 100, else the scale word (1000, 10**6, ...) the number ends
    with: 2000 -> 1000 ('iki min'), 1 500 000 -> 1000 ('... beş yüz min'), 10**6 -> 10**6.
    """
    n = abs(int(n))
    if n == 0:
        return 0
    scale = 1
    while n % 1000 == 0:
        n //= 1000
        scale *= 1000
    if scale > 1:
        return scale
    if n % 10:
        return n % 10
    if n % 100:
        return n % 100
    return 100


def _suffix_table(content: Content, key: str, lang: str) -> dict[int, str]:
    raw = content.t(key, lang).strip()
    table: dict[int, str] = {}
    if raw in ("", "-"):
        return table
    for part in raw.split():
        number, _, suffix = part.partition(":")
        if number.isdigit() and suffix:
            table[int(number)] = suffix
    return table


class Words:
    """The strings of one language, and numbers written the way that language's press does."""

    def __init__(self, content: Content, lang: str) -> None:
        self.content = content
        self.lang = lang
        self._possessive = _suffix_table(content, "report.grammar.possessive", lang)
        self._ordinal = _suffix_table(content, "report.grammar.ordinal", lang)
        self._decimal = content.t("report.number.decimal", lang)

    def t(self, key: str, **kw: Any) -> str:
        return self.content.t(key, self.lang, Audience.ADULT, **kw)

    def label(self, prefix: str, code: str) -> str:
        key = f"{prefix}.{code}"
        return self.t(key) if self.content.has(key) else code

    def num(self, n: int) -> str:
        return group_thousands(n)

    def poss(self, n: int) -> str:
        """A count followed by the possessive suffix where the language has one: 793-ü, 236-sı."""
        suffix = self._possessive.get(last_spoken_unit(n))
        return f"{group_thousands(n)}-{suffix}" if suffix else group_thousands(n)

    def year(self, y: int) -> str:
        """A year as in '2026-cı ilin'; plain in languages without the suffix."""
        suffix = self._ordinal.get(last_spoken_unit(y))
        return f"{y}-{suffix}" if suffix else str(y)

    def minutes(self, value: float | None) -> str:
        if value is None:
            return self.t("report.no_value")
        text = f"{value:.1f}"
        if text.endswith(".0"):
            text = text[:-2]
        return text.replace(".", self._decimal)

    def month(self, ym: str) -> str:
        y, m = ym.split("-")
        return self.t("report.month_label", month=self.t(f"report.month.{int(m)}"), year=y)


def format_date(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def _category_labels(report: Report, content: Content, lang: str, scheme: str) -> list[tuple[str, str, int]]:
    if scheme == "chi":
        chi = load_chi()
        return [(code, chi.label(code, lang), n) for code, n in report.by_chi.items()]
    return [(code, content.category_label(code, lang), n) for code, n in report.by_category.items()]


Value = int | float | None
Section = tuple[str, str, list[tuple[str, str, Value]]]


def _sections(report: Report, content: Content, lang: str, scheme: str) -> list[Section]:
    """(section code, heading, [(code, label, value)]) for the table and the CSV.

    Values are counts (int) except the two claim times (minutes, float, or None when no case
    was claimed).
    """
    w = Words(content, lang)
    chi = scheme == "chi"
    return [
        (
            "contacts",
            "",
            [
                ("contacts", w.t("report.contacts"), report.contacts),
                ("people", w.t("report.people"), report.people),
            ],
        ),
        (
            "chi_category" if chi else "category",
            w.t("report.section.chi" if chi else "report.section.category"),
            [(code, label, n) for code, label, n in _category_labels(report, content, lang, scheme)],
        ),
        ("month", w.t("report.section.month"), [(ym, w.month(ym), n) for ym, n in report.by_month.items()]),
        (
            "audience",
            w.t("report.section.audience"),
            [(code, w.label("report.audience", code), n) for code, n in report.by_audience.items()],
        ),
        (
            "gender",
            w.t("report.section.gender"),
            [(code, w.label("report.gender", code), n) for code, n in report.by_gender.items()],
        ),
        (
            "channel",
            w.t("report.section.channel"),
            [(code, w.label("report.channel", code), n) for code, n in report.by_channel.items()],
        ),
        (
            "risk",
            w.t("report.section.risk"),
            [(code, w.label("report.risk", code), n) for code, n in report.by_risk.items()],
        ),
        (
            "escalation",
            w.t("report.section.escalation"),
            [
                ("escalated", w.t("report.escalated"), report.escalated),
                ("claimed", w.t("report.claimed"), report.claimed),
                ("claim_median_minutes", w.t("report.claim_median"), report.claim_minutes_median),
                ("claim_p90_minutes", w.t("report.claim_p90"), report.claim_minutes_p90),
            ],
        ),
        (
            "closed",
            w.t("report.section.closed"),
            [
                ("total", w.t("report.closed"), report.closed),
                ("by_counsellor", w.t("report.closed_by_counsellor"), report.closed_by_counsellor),
            ],
        ),
        (
            "outcome",
            w.t("report.section.outcome"),
            [(code, content.t(f"outcome.{code}", lang), n) for code, n in report.by_outcome.items()],
        ),
        (
            "selfhelp",
            w.t("report.section.selfhelp"),
            [
                ("rated", w.t("report.articles_rated"), report.articles_rated),
                ("helpful", w.t("report.articles_helpful"), report.articles_helpful),
            ],
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Renderers
# ---------------------------------------------------------------------------------------------


def render_table(report: Report, content: Content, lang: str = "az", scheme: str = "helpline") -> str:
    """A plain-text table (monospace) of every figure."""
    w = Words(content, lang)
    sections = _sections(report, content, lang, scheme)
    lines = [
        w.t("report.title"),
        w.t("report.period", date_from=format_date(report.date_from), date_to=format_date(report.date_to)),
    ]
    rows: list[tuple[str, str, str]] = []  # (indent, label, value)
    for _section, heading, items in sections:
        rows.append(("", "", ""))
        if heading:
            rows.append(("", heading, ""))
        indent = "  " if heading else ""
        for _, label, value in items:
            shown = w.num(value) if isinstance(value, int) else w.minutes(value)
            rows.append((indent, label, shown))
    width = max(len(indent + label) for indent, label, value in rows if value) + 2
    for indent, label, value in rows:
        if not value:
            lines.append(indent + label)
        else:
            lines.append(f"{indent + label:<{width}}{value:>8}")
    lines += ["", w.t("report.note")]
    return "\n".join(lines).rstrip() + "\n"


def render_csv(report: Report, content: Content, scheme: str = "helpline", lang: str = "az") -> str:
    """CSV with the columns section, code, label, value (plain integers; minutes with a dot)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "code", "label", "value"])
    writer.writerow(["period", "from", "", report.date_from.isoformat()])
    writer.writerow(["period", "to", "", report.date_to.isoformat()])
    for section, _, items in _sections(report, content, lang, scheme):
        for code, label, value in items:
            shown = "" if value is None else str(value) if isinstance(value, int) else f"{value:.1f}"
            writer.writerow([section, code, label, shown])
    return out.getvalue()


def period_phrase(date_from: date, date_to: date, w: Words) -> str:
    """'2026-cı ilin yanvar–may aylarında', or the dates when the period is not whole months."""
    whole_months = date_from.day == 1 and (date_to + timedelta(days=1)).day == 1
    if whole_months and date_from.year == date_to.year:
        year = w.year(date_from.year)
        if date_from.month == date_to.month:
            return w.t("report.period.month", year=year, month=w.t(f"report.month_in.{date_from.month}"))
        return w.t(
            "report.period.months",
            year=year,
            month_from=w.t(f"report.month_in.{date_from.month}"),
            month_to=w.t(f"report.month_in.{date_to.month}"),
        )
    if date_from == date_to:
        return w.t("report.period.day", date=format_date(date_from))
    return w.t("report.period.dates", date_from=format_date(date_from), date_to=format_date(date_to))


def _items(w: Words, pairs: list[tuple[str, int]]) -> str:
    """'793-ü təhsil, 481-i hüquqi, 399-u isə digər' from (label, count), zeros left out."""
    pairs = [(label, n) for label, n in pairs if n > 0]
    parts = []
    for i, (label, n) in enumerate(pairs):
        key = "report.text.item_last" if len(pairs) > 1 and i == len(pairs) - 1 else "report.text.item"
        parts.append(w.t(key, n=w.poss(n), label=label))
    return w.t("report.text.list_sep").join(parts)


def render_text(report: Report, content: Content, lang: str = "az") -> str:
    """A short paragraph in the helpline's press style (the helpline's six categories)."""
    w = Words(content, lang)
    period = period_phrase(report.date_from, report.date_to, w)
    sentences: list[str] = []
    if report.contacts == 0:
        sentences.append(w.t("report.text.none", period=period))
    else:
        total = w.t(
            "report.text.total", period=period, contacts=w.num(report.contacts), people=w.num(report.people)
        )
        sentences.append(total)
        cats = [(w.t(f"report.text.cat.{code}"), n) for code, n in report.by_category.items()]
        sentences.append(w.t("report.text.categories", items=_items(w, cats)))
        who = [(w.t(f"report.text.who.{c}"), report.by_audience.get(c, 0)) for c in ("adult", "child")]
        if any(n for _, n in who):
            sentences.append(w.t("report.text.audience", items=_items(w, who)))
        gender = [(w.t(f"report.text.gender.{c}"), report.by_gender.get(c, 0)) for c in ("female", "male")]
        if any(n for _, n in gender):
            sentences.append(w.t("report.text.gender", items=_items(w, gender)))
        if report.escalated:
            if report.claimed:
                sentences.append(
                    w.t(
                        "report.text.escalated_claimed",
                        escalated=w.num(report.escalated),
                        claimed=w.poss(report.claimed),
                        median=w.minutes(report.claim_minutes_median),
                        p90=w.minutes(report.claim_minutes_p90),
                    )
                )
            else:
                sentences.append(w.t("report.text.escalated", escalated=w.num(report.escalated)))
    if report.closed:
        if report.closed_by_counsellor:
            sentences.append(
                w.t(
                    "report.text.closed",
                    closed=w.num(report.closed),
                    closed_by_counsellor=w.poss(report.closed_by_counsellor),
                )
            )
        else:
            sentences.append(w.t("report.text.closed_only", closed=w.num(report.closed)))
    meetings = report.by_outcome.get(CloseOutcome.FAMILY_MEETING.value, 0)
    rehab = report.by_outcome.get(CloseOutcome.REHABILITATION.value, 0)
    if meetings or rehab:
        sentences.append(w.t("report.text.outcomes", meetings=w.num(meetings), rehabilitation=w.num(rehab)))
    return " ".join(sentences)


def chart_figure(report: Report, content: Content, lang: str = "az", scheme: str = "helpline") -> Figure:
    """The chart as a matplotlib Figure (Agg, no pyplot state): contacts by category and by month."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    w = Words(content, lang)
    categories = _category_labels(report, content, lang, scheme)
    months = list(report.by_month.items())
    fig = Figure(figsize=(12, max(4.5, 0.42 * len(categories) + 1.5)), layout="constrained")
    FigureCanvasAgg(fig)
    ax_cat, ax_month = fig.subplots(1, 2, width_ratios=(1.15, 1))
    period = f"{format_date(report.date_from)} – {format_date(report.date_to)}"
    fig.suptitle(w.t("report.chart.title", period=period), fontsize=14)

    labels = [label for _, label, _ in categories][::-1]
    counts = [n for _, _, n in categories][::-1]
    bars = ax_cat.barh(labels, counts, color="#2b7bba")
    ax_cat.bar_label(bars, labels=[w.num(n) for n in counts], padding=3)
    ax_cat.set_title(w.t("report.chart.by_category"))
    ax_cat.set_xlabel(w.t("report.contacts"))
    ax_cat.set_xlim(0, max([*counts, 1]) * 1.18)

    month_labels = [w.month(ym) for ym, _ in months]
    month_counts = [n for _, n in months]
    bars = ax_month.bar(month_labels, month_counts, color="#f28e2b")
    ax_month.bar_label(bars, labels=[w.num(n) for n in month_counts], padding=3)
    ax_month.set_title(w.t("report.chart.by_month"))
    ax_month.set_ylabel(w.t("report.contacts"))
    ax_month.set_ylim(0, max([*month_counts, 1]) * 1.18)
    if len(months) > 4:
        ax_month.tick_params(axis="x", labelrotation=45)
    for ax in (ax_cat, ax_month):
        ax.spines[["top", "right"]].set_visible(False)
    ax_cat.xaxis.get_major_locator().set_params(integer=True)
    ax_month.yaxis.get_major_locator().set_params(integer=True)
    return fig


def render_chart(
    report: Report, content: Content, path: str | Path, lang: str = "az", scheme: str = "helpline"
) -> None:
    """Write the chart as a PNG to ``path``."""
    fig = chart_figure(report, content, lang, scheme)
    fig.savefig(path, format="png", dpi=120)


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
