"""``staff``: the counsellor console."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from typing import Any, TextIO

from bot import lifecycle
from bot.app import App
from bot.channels.terminal.jsonl import STAFF_CHANNEL
from bot.deliveries import CaseNote, Reminder, StaffNotice, Withdraw
from bot.domain import CloseOutcome, Risk, StaffMember
from bot.jobs import CoreJobs, describe
from bot.staff import CaseView, refusal_text
from bot.storage.models import utcnow
from bot.storage.outbox import Delivery

log = logging.getLogger(__name__)


class Console:
    """The counsellor console: commands from stdin, cases and alerts to stdout, in one language."""

    def __init__(self, app: App, name: str, stdout: TextIO, lang: str = "az") -> None:
        self.app = app
        self.staff = StaffMember(id=f"console:{name}", name=name)
        self.out = stdout
        self.lang = lang

    def t(self, key: str, **kw: Any) -> str:
        return self.app.content.t(key, self.lang, **kw)

    def write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    # ---- what a case looks like ------------------------------------------------------------------
    def card(self, view: CaseView) -> str:
        content, t = self.app.content, self.t
        status = t(f"staff.status.{view.status.value}", name=view.assignee_name or "?")
        lines = [
            t(
                "staff.card_title",
                case=view.id,
                priority=view.priority,
                risk=t(f"staff.risk.{view.risk.value}"),
            ),
            t(
                "staff.card_meta",
                status=status,
                category=content.category_label(view.category, self.lang),
                topics=", ".join(content.topic_label(x, self.lang) for x in view.topics) or "-",
                who=t(f"staff.who.{view.audience}"),
                minutes=int(view.waiting_seconds(utcnow()) // 60),
            ),
        ]
        if view.person_left:
            lines.append(t("staff.person_left"))
        if view.signals:
            labels = [content.signal_label(s, self.lang) for s in view.signals]
            lines.append(t("staff.card_signals", signals="; ".join(dict.fromkeys(labels[-6:]))))
        for sender, text in view.last_messages:
            lines.append(f"  {t('staff.sender.' + sender)}: {text[:300]}")
        return "\n".join(lines)

    # ---- alerts from the staff outbox --------------------------------------------------------------
    async def show_alerts(self) -> int:
        shown: list[str] = []
        items = await self.app.outbox.due(STAFF_CHANNEL, limit=100, target="staff")
        for item in items:
            text = await self.alert_text(item)
            if text:
                shown.append(text)
        await self.app.outbox.sent_many([(item.id, None) for item in items])
        for text in shown:
            self.write("\n" + text)
        return len(shown)

    async def alert_text(self, item: Delivery) -> str | None:
        payload = item.payload
        case_id = item.case_id
        if isinstance(payload, Withdraw):
            return None
        if isinstance(payload, StaffNotice):  # e.g. a channel says a person can no longer be reached
            return "ℹ️ " + payload.text
        view = await self.app.desk.case(case_id, messages=3) if case_id else None
        if view is None:
            return None
        if isinstance(payload, Reminder):
            if not lifecycle.is_queued(view):
                return None
            minutes = int(view.waiting_seconds(utcnow()) // 60)
            return "⏰ " + self.t(
                "tg.reminder", case=view.id, risk=self.t(f"staff.risk.{view.risk.value}"), minutes=minutes
            )
        if isinstance(payload, CaseNote):
            if payload.name == "case_opened":
                return "🆕 " + self.card(view)
            if payload.reason == lifecycle.Reason.RISK_RAISED:
                previous = payload.event.get("previous_risk") or "none"
                text = self.t(
                    "staff.alert.raised",
                    case=view.id,
                    before=self.t(f"staff.risk.{previous}"),
                    risk=self.t(f"staff.risk.{view.risk.value}"),
                )
                if payload.excerpt:
                    text += "\n  › " + payload.excerpt[:300]
                return "⚠️ " + text
            if payload.reason == lifecycle.Reason.PERSON_LEFT:
                return "🚪 " + self.t(
                    "staff.alert.person_left", case=view.id, risk=self.t(f"staff.risk.{view.risk.value}")
                )
            return None
        if hasattr(payload, "text") and view.open:
            return f"💬 #{view.id} {self.t('staff.sender.person')}: {getattr(payload, 'text', '')[:300]}"
        return None

    # ---- commands ----------------------------------------------------------------------------------
    def outcome_help(self, case_id: int) -> str:
        lines = [self.t("staff.close.choose", case=case_id)]
        for i, outcome in enumerate(lifecycle.COUNSELLOR_OUTCOMES, 1):
            lines.append(f"  {i}. {outcome.value} — {self.t('outcome.' + outcome.value)}")
        return "\n".join(lines)

    def parse_outcome(self, raw: str) -> CloseOutcome | None:
        if raw.isdigit() and 0 < int(raw) <= len(lifecycle.COUNSELLOR_OUTCOMES):
            return lifecycle.COUNSELLOR_OUTCOMES[int(raw) - 1]
        try:
            outcome = CloseOutcome(raw)
        except ValueError:
            return None
        return outcome if outcome in lifecycle.COUNSELLOR_OUTCOMES else None

    async def command(self, line: str) -> bool:
        """Run one console command; False to quit."""
        cmd, _, rest = line.strip().partition(" ")
        arg, _, text = rest.partition(" ")
        case_id = int(arg) if arg.isascii() and arg.isdigit() and len(arg) < 18 else None
        desk = self.app.desk
        if cmd in ("quit", "exit"):
            return False
        if not cmd:
            return True
        if cmd in ("queue", "q", "/queue"):
            views = await desk.queue()
            self.write("\n\n".join(self.card(v) for v in views) or self.t("staff.queue_empty"))
            return True
        if cmd in ("claim", "show", "reply", "close", "release", "review") and case_id is None:
            self.write(self.t("staff.usage"))
            return True
        assert case_id is not None or cmd not in ("claim", "show", "reply", "close", "release", "review")
        if cmd == "show":
            view = await desk.case(case_id, messages=20)  # type: ignore[arg-type]
            self.write(self.card(view) if view else self.t("staff.refused.not_found", case=case_id))
            return True
        if cmd == "claim":
            result = await desk.claim(case_id, self.staff)  # type: ignore[arg-type]
        elif cmd == "reply":
            result = await desk.reply(case_id, self.staff, text=text)  # type: ignore[arg-type]
        elif cmd == "release":
            result = await desk.release(case_id, self.staff)  # type: ignore[arg-type]
        elif cmd == "close":
            words = text.split()
            outcome = self.parse_outcome(words[0]) if words else None
            result = await desk.close(case_id, self.staff, outcome)  # type: ignore[arg-type]
            if result.refusal == lifecycle.Refusal.OUTCOME_NEEDED:
                self.write(self.outcome_help(case_id))  # type: ignore[arg-type]
                return True
            if result.ok:
                self.write(self.t("staff.done.close", case=case_id))
                if len(words) > 1:
                    await self.review(case_id, words[1:])  # type: ignore[arg-type]
                else:
                    self.write(self.t("staff.review.ask_console", case=case_id))
                return True
        elif cmd == "review":
            await self.review(case_id, text.split())  # type: ignore[arg-type]
            return True
        else:
            self.write(self.t("staff.usage"))
            return True
        if result.ok:
            self.write(self.t(f"staff.done.{cmd}", case=case_id))
        elif not result.duplicate:
            self.write(refusal_text(self.app.content, result, case_id, self.lang, self.staff))  # type: ignore[arg-type]
        return True

    async def review(self, case_id: int, words: list[str]) -> None:
        risk = next((w for w in words if w in {r.value for r in Risk}), None)
        category = next((w for w in words if w in self.app.content.taxonomy.categories), None)
        if risk is None and category is None:
            self.write(self.t("staff.review.ask_console", case=case_id))
            return
        result = await self.app.desk.review(case_id, self.staff, risk=risk, category=category)
        if result.ok:
            self.write(self.t("staff.review.done", case=case_id))
        else:
            self.write(refusal_text(self.app.content, result, case_id, self.lang, self.staff))


async def run_staff(
    app: App, name: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, lang: str = "az"
) -> int:
    console = Console(app, name, stdout, lang)
    jobs = CoreJobs(app) if app.settings.staff_channel == STAFF_CHANNEL else None
    console.write(console.t("staff.console_intro"))

    async def alerts() -> None:
        try:
            if jobs is not None:
                await jobs.tick()  # reminders due now are written before anything is shown
            await console.show_alerts()
        except Exception as exc:  # the database may be away for a moment
            log.error("console alerts failed: %s", describe(exc))

    async def watch() -> None:
        while True:
            await asyncio.sleep(1.0)
            await alerts()

    await alerts()
    watcher = asyncio.create_task(watch())
    loop = asyncio.get_running_loop()
    try:
        while True:
            console.out.write("staff> ")
            console.out.flush()
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            try:
                if not await console.command(line):
                    break
            except Exception as exc:
                log.error("console command failed: %s", describe(exc))
                console.write(console.t("staff.failed"))
        with contextlib.suppress(Exception):
            await console.show_alerts()
    finally:
        watcher.cancel()
        with contextlib.suppress(BaseException):
            await watcher
        if jobs is not None:
            await jobs.stop()
    return 0
