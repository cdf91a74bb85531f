"""What the staff chat shows: case cards, reminders, the queue. Words come from content (``tg.*``,
``staff.*``); this module only lays them out (HTML, every dynamic part escaped)."""

from __future__ import annotations

from datetime import datetime
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import Risk
from bot.staff import CaseView
from bot.texts import Content

MAX_CARD = 3900  # Telegram allows 4096 characters; keep room for the markup
MESSAGE_EXCERPT = 300
MAX_SIGNALS = 6
TOPIC_NAME_MAX = 128
# Forum topic icon colours Telegram accepts, by risk.
TOPIC_COLORS = {
    Risk.NONE: 7322096,  # blue
    Risk.ELEVATED: 16766590,  # yellow
    Risk.URGENT: 16749490,  # pink
    Risk.IMMINENT: 16478047,  # red
}


def minutes_waiting(view: CaseView, now: datetime) -> int:
    return int(view.waiting_seconds(now) // 60)


def risk_label(content: Content, view: CaseView, lang: str) -> str:
    return content.t(f"staff.risk.{view.risk.value}", lang)


def topics_label(content: Content, view: CaseView, lang: str) -> str:
    return ", ".join(content.topic_label(code, lang) for code in view.topics) or "—"


def _excerpt(text: str, limit: int = MESSAGE_EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def card_text(content: Content, view: CaseView, lang: str, now: datetime, forum: bool) -> str:
    """The case card (HTML)."""
    t = content.t
    head = [
        "<b>"
        + escape(
            t(
                "staff.card_title",
                lang,
                case=view.id,
                priority=view.priority,
                risk=risk_label(content, view, lang),
            )
        )
        + "</b>",
        escape(
            t(f"tg.card.status.{view.status}", lang, name=view.assignee_name or "?")
            if content.has(f"tg.card.status.{view.status}")
            else view.status
        ),
        escape(
            t(
                "tg.card.category",
                lang,
                category=content.category_label(view.category, lang),
                topics=topics_label(content, view, lang),
            )
        ),
        escape(
            t(
                "tg.card.who",
                lang,
                who=t(f"staff.who.{view.audience}", lang)
                if content.has(f"staff.who.{view.audience}")
                else view.audience,
                language=t(f"lang.{view.language}", lang) if view.language in ("az", "ru", "en") else "—",
            )
        ),
    ]
    if view.status in ("queued", "claimed"):
        head.append(escape(t("tg.card.waiting", lang, minutes=minutes_waiting(view, now))))
    signals: list[str] = []
    seen: set[str] = set()
    for signal in sorted(view.signals, key=lambda s: -s.level.rank):  # the gravest first
        label = signal.label or signal.code
        if label not in seen:
            seen.add(label)
            signals.append("• " + escape(_excerpt(label, 120)))
        if len(signals) == MAX_SIGNALS:
            break
    hint = ""
    if view.status in ("queued", "claimed"):
        hint = "<i>" + escape(t("tg.card.forum_hint" if forum else "tg.card.reply_hint", lang)) + "</i>"

    def build(messages: list[tuple[str, str]]) -> str:
        parts = ["\n".join(head)]
        if signals:
            parts.append(escape(t("tg.card.signals", lang)) + "\n" + "\n".join(signals))
        if messages:
            lines = [
                "› "
                + escape(
                    t(f"staff.sender.{sender}", lang) if content.has(f"staff.sender.{sender}") else sender
                )
                + ": "
                + escape(_excerpt(text))
                for sender, text in messages
            ]
            parts.append(escape(t("tg.card.messages", lang)) + "\n" + "\n".join(lines))
        if hint:
            parts.append(hint)
        return "\n\n".join(parts)

    messages = list(view.last_messages)
    text = build(messages)
    while len(text) > MAX_CARD and messages:
        messages.pop(0)
        text = build(messages)
    return text


def card_markup(content: Content, view: CaseView, lang: str) -> InlineKeyboardMarkup | None:
    t = content.t
    if view.status == "queued":
        row = [
            InlineKeyboardButton(text=t("tg.btn.claim", lang), callback_data=f"claim:{view.id}"),
            InlineKeyboardButton(text=t("tg.btn.close", lang), callback_data=f"close:{view.id}"),
        ]
    elif view.status == "claimed":
        row = [
            InlineKeyboardButton(text=t("tg.btn.release", lang), callback_data=f"release:{view.id}"),
            InlineKeyboardButton(text=t("tg.btn.close", lang), callback_data=f"close:{view.id}"),
        ]
    else:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[row])


def claim_markup(content: Content, view: CaseView, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=content.t("tg.btn.claim", lang), callback_data=f"claim:{view.id}")]
        ]
    )


def topic_name(content: Content, view: CaseView, lang: str) -> str:
    category = content.category_label(view.category, lang)
    if view.status == "closed":
        name = content.t("tg.topic.closed", lang, case=view.id, category=category)
    else:
        name = content.t(
            "tg.topic.name", lang, case=view.id, risk=risk_label(content, view, lang), category=category
        )
    return name[:TOPIC_NAME_MAX]


def topic_color(view: CaseView) -> int:
    return TOPIC_COLORS.get(view.risk, TOPIC_COLORS[Risk.NONE])


def reminder_text(content: Content, view: CaseView, lang: str, now: datetime) -> str:
    return content.t(
        "tg.reminder",
        lang,
        case=view.id,
        risk=risk_label(content, view, lang),
        minutes=minutes_waiting(view, now),
    )


def raised_text(content: Content, view: CaseView, lang: str) -> str:
    return content.t("tg.alert.raised", lang, case=view.id, risk=risk_label(content, view, lang))


def topic_link(chat_id: int, thread_id: int) -> str | None:
    """https://t.me/c/<id>/<thread> for a supergroup (its id is -100<id>)."""
    raw = str(chat_id)
    if not raw.startswith("-100"):
        return None
    return f"https://t.me/c/{raw[4:]}/{thread_id}"


def queue_text(
    content: Content, views: list[CaseView], lang: str, now: datetime, chat_id: int, forum: bool
) -> str:
    """/queue: open cases, most urgent first, then the longest waiting (the desk's order). HTML."""
    t = content.t
    if not views:
        return escape(t("staff.queue_empty", lang))
    lines = [escape(t("tg.queue.title", lang, count=len(views)))]
    for view in views[:50]:
        status = (
            t("tg.queue.with", lang, name=view.assignee_name or "?")
            if view.status == "claimed"
            else t("tg.queue.waiting", lang)
        )
        line = escape(
            t(
                "tg.queue.line",
                lang,
                case=view.id,
                risk=risk_label(content, view, lang),
                category=content.category_label(view.category, lang),
                status=status,
                minutes=minutes_waiting(view, now),
            )
        )
        link = topic_link(chat_id, view.staff_thread_id) if forum and view.staff_thread_id else None
        if link:
            line = f'<a href="{escape(link)}">{line}</a>'
        lines.append(line)
    return "\n".join(lines)
