"""What the staff chat shows: case cards, alerts, reminders, the queue, the close and review buttons.
Words come from content (``tg.*``, ``staff.*``) in the staff chat's language; this module only lays
them out (HTML, every dynamic part escaped)."""

from __future__ import annotations

from datetime import datetime
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot import lifecycle
from bot.domain import Category, Risk, StaffMember
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


def risk_label(content: Content, risk: Risk | str, lang: str) -> str:
    return content.t(f"staff.risk.{Risk(risk).value}", lang)


def topics_label(content: Content, view: CaseView, lang: str) -> str:
    return ", ".join(content.topic_label(code, lang) for code in view.topics) or "—"


def excerpt(text: str, limit: int = MESSAGE_EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def card_text(content: Content, view: CaseView, lang: str, now: datetime, forum: bool) -> str:
    """The case card (HTML)."""
    t = content.t
    status = t(f"tg.card.status.{view.status.value}", lang, name=view.assignee_name or "?")
    if lifecycle.is_closed(view) and view.outcome:
        status += " · " + t(f"outcome.{view.outcome}", lang)
    head = [
        "<b>"
        + escape(
            t(
                "staff.card_title",
                lang,
                case=view.id,
                priority=view.priority,
                risk=risk_label(content, view.risk, lang),
            )
        )
        + "</b>",
        escape(status),
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
                who=t(f"staff.who.{view.audience}", lang),
                language=t(f"lang.{view.language}", lang) if view.language in ("az", "ru", "en") else "—",
                channel=t(f"staff.channel.{view.channel}", lang)
                if content.has(f"staff.channel.{view.channel}")
                else view.channel,
            )
        ),
    ]
    if view.open:
        head.append(escape(t("tg.card.waiting", lang, minutes=minutes_waiting(view, now))))
    if view.person_left:
        head.append("<b>" + escape(t("staff.person_left", lang)) + "</b>")
    signals: list[str] = []
    for signal in sorted(view.signals, key=lambda s: -s.level.rank):  # the gravest first
        label = content.signal_label(signal, lang)
        line = "• " + escape(excerpt(label, 120))
        if line not in signals:
            signals.append(line)
        if len(signals) == MAX_SIGNALS:
            break
    hint = ""
    if view.open:
        hint = "<i>" + escape(t("tg.card.forum_hint" if forum else "tg.card.reply_hint", lang)) + "</i>"

    def build(messages: list[tuple[str, str]]) -> str:
        parts = ["\n".join(head)]
        if signals:
            parts.append(escape(t("tg.card.signals", lang)) + "\n" + "\n".join(signals))
        if messages:
            lines = [
                "› " + escape(t(f"staff.sender.{sender}", lang)) + ": " + escape(excerpt(text))
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


def _button(content: Content, key: str, lang: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=content.t(key, lang), callback_data=data)


def card_markup(content: Content, view: CaseView, lang: str) -> InlineKeyboardMarkup | None:
    if lifecycle.is_queued(view):
        row = [_button(content, "tg.btn.claim", lang, f"claim:{view.id}")]
        if not view.risk.escalates:  # a crisis case is closed only by the counsellor who claimed it
            row.append(_button(content, "tg.btn.close", lang, f"close:{view.id}"))
    elif lifecycle.is_claimed(view):
        row = [
            _button(content, "tg.btn.release", lang, f"release:{view.id}"),
            _button(content, "tg.btn.close", lang, f"close:{view.id}"),
        ]
    else:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[row])


def claim_markup(content: Content, view: CaseView, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_button(content, "tg.btn.claim", lang, f"claim:{view.id}")]]
    )


def outcome_markup(content: Content, case_id: int, lang: str) -> InlineKeyboardMarkup:
    """ "How did it end?": one button per outcome, two a row."""
    buttons = [
        InlineKeyboardButton(text=content.t(f"outcome.{o.value}", lang), callback_data=f"out:{case_id}:{i}")
        for i, o in enumerate(lifecycle.COUNSELLOR_OUTCOMES)
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def review_markup(content: Content, view: CaseView, lang: str) -> InlineKeyboardMarkup:
    """The triage review after a close: the risk row and the category rows, the bot's guess marked ✓."""
    risk_row = [
        InlineKeyboardButton(
            text=("✓ " if level == view.risk else "") + risk_label(content, level, lang),
            callback_data=f"rv:{view.id}:r:{level.value}",
        )
        for level in Risk
    ]
    categories = [
        InlineKeyboardButton(
            text=("✓ " if c.value == (view.category or "other") else "")
            + content.category_label(c.value, lang),
            callback_data=f"rv:{view.id}:c:{c.value}",
        )
        for c in Category
    ]
    return InlineKeyboardMarkup(inline_keyboard=[risk_row, categories[:3], categories[3:]])


def review_text(content: Content, view: CaseView, lang: str) -> str:
    return content.t(
        "tg.review.ask",
        lang,
        case=view.id,
        risk=risk_label(content, view.risk, lang),
        category=content.category_label(view.category, lang),
    )


def topic_name(content: Content, view: CaseView, lang: str) -> str:
    category = content.category_label(view.category, lang)
    if lifecycle.is_closed(view):
        name = content.t("tg.topic.closed", lang, case=view.id, category=category)
    else:
        name = content.t(
            "tg.topic.name", lang, case=view.id, risk=risk_label(content, view.risk, lang), category=category
        )
    return name[:TOPIC_NAME_MAX]


def topic_color(view: CaseView) -> int:
    return TOPIC_COLORS.get(view.risk, TOPIC_COLORS[Risk.NONE])


def reminder_text(content: Content, view: CaseView, lang: str, now: datetime) -> str:
    return content.t(
        "tg.reminder",
        lang,
        case=view.id,
        risk=risk_label(content, view.risk, lang),
        minutes=minutes_waiting(view, now),
    )


def mentions(staff: list[StaffMember], limit: int = 5) -> str:
    """HTML mentions of Telegram counsellors (by id, so no username is needed)."""
    links = []
    for member in staff[:limit]:
        kind, _, raw = member.id.partition(":")
        if kind == "telegram" and raw.lstrip("-").isdigit():
            links.append(f'<a href="tg://user?id={raw}">{escape(member.name)}</a>')
    return " ".join(links)


def raised_text(
    content: Content, view: CaseView, lang: str, before: Risk | str, quote: str, on_duty: list[StaffMember]
) -> str:
    """A rise of risk, in the case's topic: what changed, the words that raised it, who should look."""
    text = escape(
        content.t(
            "tg.alert.raised",
            lang,
            case=view.id,
            before=risk_label(content, before, lang),
            risk=risk_label(content, view.risk, lang),
        )
    )
    if quote:
        text += "\n<blockquote>" + escape(excerpt(quote, 600)) + "</blockquote>"
    who = mentions(on_duty)
    if who:
        text += "\n" + escape(content.t("tg.alert.calling", lang)) + " " + who
    return text


def left_text(content: Content, view: CaseView, lang: str) -> str:
    return content.t("tg.alert.person_left", lang, case=view.id, risk=risk_label(content, view.risk, lang))


def topic_link(chat_id: int, thread_id: int) -> str | None:
    """https://t.me/c/<id>/<thread> for a supergroup (its id is -100<id>)."""
    raw = str(chat_id)
    if not raw.startswith("-100"):
        return None
    return f"https://t.me/c/{raw[4:]}/{thread_id}"


def queue_text(
    content: Content,
    views: list[CaseView],
    lang: str,
    now: datetime,
    chat_id: int,
    threads: dict[int, int | None],
) -> str:
    """/queue: open cases, most urgent first, then the longest waiting (the desk's order). HTML."""
    t = content.t
    if not views:
        return escape(t("staff.queue_empty", lang))
    lines = [escape(t("tg.queue.title", lang, count=len(views)))]
    for view in views[:50]:
        status = (
            t("tg.queue.with", lang, name=view.assignee_name or "?")
            if lifecycle.is_claimed(view)
            else t("tg.queue.waiting", lang)
        )
        line = escape(
            t(
                "tg.queue.line",
                lang,
                case=view.id,
                risk=risk_label(content, view.risk, lang),
                category=content.category_label(view.category, lang),
                status=status,
                minutes=minutes_waiting(view, now),
            )
        )
        thread = threads.get(view.id)
        link = topic_link(chat_id, thread) if thread else None
        if link:
            line = f'<a href="{escape(link)}">{line}</a>'
        lines.append(line)
    return "\n".join(lines)
