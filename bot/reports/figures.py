"""The counting: one period's figures from the database (see the package's docstring)."""

from __future__ import annotations

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

from bot.domain import LANGUAGES, Category, CloseOutcome, Risk
from bot.lifecycle import COUNSELLOR_OUTCOMES
from bot.storage.models import ArticleRating, Case, Conversation
from bot.texts import CONTENT_DIR, ContentInvalid

if TYPE_CHECKING:
    pass


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
