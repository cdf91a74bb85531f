"""Prometheus metrics: counts and durations only (no text, no ids), on ``GET /metrics``.

Counters and the triage histogram are per process (Prometheus adds the replicas up); the queue and
outbox gauges are read from the database at each scrape, so every replica reports the same truth.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select

from bot import lifecycle
from bot.domain import Risk
from bot.storage.db import Database
from bot.storage.models import Case, OutboxItem, utcnow

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

QUEUE_CASES = Gauge(
    "helpline_queue_cases",
    "Cases waiting for a counsellor now (not yet claimed)",
    ["risk"],
    registry=REGISTRY,
)
QUEUE_OLDEST = Gauge(
    "helpline_queue_oldest_wait_seconds",
    "How long the longest-waiting unclaimed case of each risk level has waited",
    ["risk"],
    registry=REGISTRY,
)
CASES_OPENED = Counter(
    "helpline_cases_opened", "Cases that entered the counsellor queue", ["risk", "channel"], registry=REGISTRY
)
MESSAGES = Counter(
    "helpline_messages",
    "Messages handled (in) and delivered (out)",
    ["direction", "channel"],
    registry=REGISTRY,
)
OUTBOX_PENDING = Gauge("helpline_outbox_pending", "Outbox items waiting to be delivered", registry=REGISTRY)
OUTBOX_OLDEST = Gauge(
    "helpline_outbox_oldest_seconds", "Age of the oldest undelivered outbox item", registry=REGISTRY
)
TRIAGE_SECONDS = Histogram(
    "helpline_triage_seconds",
    "Time to triage one message",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5),
    registry=REGISTRY,
)


async def refresh(db: Database, now: datetime | None = None) -> None:
    """Read the queue and outbox figures from the database into the gauges."""
    now = now or utcnow()
    async with db.read() as session:
        rows = (
            await session.execute(
                select(Case.risk, func.count(), func.min(Case.waiting_since))
                .where(Case.status == lifecycle.WAITING.value)
                .group_by(Case.risk)
            )
        ).all()
        pending, oldest = (
            await session.execute(
                select(func.count(), func.min(OutboxItem.created_at)).where(OutboxItem.status == "pending")
            )
        ).one()
    seen = {risk: (count, since) for risk, count, since in rows}
    for level in Risk:
        count, since = seen.get(level.value, (0, None))
        QUEUE_CASES.labels(risk=level.value).set(count)
        QUEUE_OLDEST.labels(risk=level.value).set(max(0.0, (now - since).total_seconds()) if since else 0.0)
    OUTBOX_PENDING.set(pending or 0)
    OUTBOX_OLDEST.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)


def exposition() -> bytes:
    return generate_latest(REGISTRY)
