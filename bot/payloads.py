"""Button payloads, typed: what a button the bot offers sends back when pressed.

Each payload is a small frozen dataclass with a short prefix; ``encode`` turns it into the string a
channel carries (at most 64 bytes, Telegram's limit) and ``decode`` parses one back, or returns
``None`` for anything it does not understand (a stale button, a forged one). No flow builds or
splits these strings by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

from bot.domain import LANGUAGES

MAX_BYTES = 64
_MAX_INT = 2**62


@dataclass(frozen=True)
class Payload:
    prefix: ClassVar[str] = ""

    def encode(self) -> str:
        parts = [self.prefix]
        for f in fields(self):
            value = getattr(self, f.name)
            parts.append(("yes" if value else "no") if isinstance(value, bool) else str(value))
        data = ":".join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"button payload over {MAX_BYTES} bytes: {data!r}")
        return data


@dataclass(frozen=True)
class Menu(Payload):
    prefix: ClassVar[str] = "menu"


@dataclass(frozen=True)
class Topics(Payload):
    prefix: ClassVar[str] = "topics"


@dataclass(frozen=True)
class MoreTopics(Payload):
    prefix: ClassVar[str] = "more"


@dataclass(frozen=True)
class Human(Payload):
    """Talk to a counsellor."""

    prefix: ClassVar[str] = "human"


@dataclass(frozen=True)
class Talk(Payload):
    """Just write about it."""

    prefix: ClassVar[str] = "talk"


@dataclass(frozen=True)
class About(Payload):
    """About the helpline: who runs it, how to reach it, what happens to a message."""

    prefix: ClassVar[str] = "about"


@dataclass(frozen=True)
class ChooseLanguage(Payload):
    prefix: ClassVar[str] = "lang"


@dataclass(frozen=True)
class SetLanguage(Payload):
    prefix: ClassVar[str] = "lang"
    code: str


@dataclass(frozen=True)
class Who(Payload):
    prefix: ClassVar[str] = "who"
    value: str  # child | adult | skip


@dataclass(frozen=True)
class Gender(Payload):
    prefix: ClassVar[str] = "gender"
    value: str  # female | male | skip


@dataclass(frozen=True)
class ArticleStep(Payload):
    prefix: ClassVar[str] = "art"
    article: str
    step: int


@dataclass(frozen=True)
class ArticleFeedback(Payload):
    prefix: ClassVar[str] = "artfb"
    article: str
    helpful: bool


@dataclass(frozen=True)
class Safety(Payload):
    """The answer to "are you in danger now?"."""

    prefix: ClassVar[str] = "safe"
    safe: bool


@dataclass(frozen=True)
class Forget(Payload):
    prefix: ClassVar[str] = "forget"


@dataclass(frozen=True)
class ForgetAnswer(Payload):
    prefix: ClassVar[str] = "forget"
    answer: str  # yes | no | wait (keep it until the counsellor has written)


@dataclass(frozen=True)
class CaseFeedback(Payload):
    """ "Did this conversation help?" after a counsellor closed the case."""

    prefix: ClassVar[str] = "fb"
    helpful: bool
    case: int


# Payloads valid at any time (the rest must have been offered in the conversation).
ALWAYS_VALID = frozenset(
    p.encode()
    for p in (
        Menu(),
        Human(),
        ChooseLanguage(),
        Forget(),
        Topics(),
        About(),
        *(SetLanguage(code) for code in LANGUAGES),
    )
)


def _bool(raw: str) -> bool | None:
    return {"yes": True, "no": False}.get(raw)


def _int(raw: str) -> int | None:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None
    value = int(raw)
    return value if value < _MAX_INT else None


def decode(data: str | None) -> Payload | None:
    """The payload a button sent back, or None if it is not one the bot makes."""
    if not data or len(data.encode(errors="replace")) > MAX_BYTES:
        return None
    name, *args = data.split(":")
    simple = {
        "menu": Menu,
        "topics": Topics,
        "more": MoreTopics,
        "human": Human,
        "talk": Talk,
        "about": About,
    }
    if name in simple and not args:
        return simple[name]()
    if name == "lang":
        if not args:
            return ChooseLanguage()
        return SetLanguage(args[0]) if len(args) == 1 and args[0] in LANGUAGES else None
    if name == "who" and len(args) == 1 and args[0] in ("child", "adult", "skip"):
        return Who(args[0])
    if name == "gender" and len(args) == 1 and args[0] in ("female", "male", "skip"):
        return Gender(args[0])
    if name == "art" and len(args) == 2 and (step := _int(args[1])) is not None and args[0]:
        return ArticleStep(args[0], step)
    if name == "artfb" and len(args) == 2 and (helpful := _bool(args[1])) is not None and args[0]:
        return ArticleFeedback(args[0], helpful)
    if name == "safe" and len(args) == 1 and (safe := _bool(args[0])) is not None:
        return Safety(safe)
    if name == "forget":
        if not args:
            return Forget()
        return ForgetAnswer(args[0]) if len(args) == 1 and args[0] in ("yes", "no", "wait") else None
    if name == "fb" and len(args) == 2 and (helpful := _bool(args[0])) is not None:
        case = _int(args[1])
        return CaseFeedback(helpful, case) if case is not None else None
    return None


def label_key(data: str) -> str | None:
    """The content key of the text a button with this payload shows (for staff screens)."""
    payload = decode(data)
    match payload:
        case Safety(safe=safe):
            return "btn.safe_yes" if safe else "btn.safe_no"
        case Human():
            return "btn.talk_to_counsellor"
        case SetLanguage(code=code):
            return f"lang.{code}"
        case Who(value=value):
            return f"who.{value}" if value != "skip" else "btn.skip"
        case Gender(value=value):
            return f"gender.{value}" if value != "skip" else "btn.skip"
        case ForgetAnswer(answer=answer):
            return {"yes": "btn.forget_yes", "no": "btn.forget_no", "wait": "btn.forget_wait"}[answer]
        case CaseFeedback(helpful=helpful):
            return "btn.fb_yes" if helpful else "btn.fb_no"
        case ArticleFeedback(helpful=helpful):
            return "btn.helped" if helpful else "btn.not_helped"
        case ArticleStep():
            return "btn.next"
        case Menu():
            return "btn.menu"
        case Topics() | MoreTopics():
            return "btn.topics"
        case Talk():
            return "btn.talk"
        case Forget():
            return "btn.forget"
        case ChooseLanguage():
            return "btn.language"
        case About():
            return "btn.about"
    return None
