"""The official Bot API specification (../shared/telegram-bot-api/api.json) as a call validator.

``ApiSpec.decode_call`` turns the raw parameters of one HTTP call (strings from a form, or JSON values)
into typed values and lists every problem the real Telegram would answer with ``400 Bad Request``:
unknown parameters, missing required ones, wrong basic types, malformed nested objects (checked
field by field against the spec's types, so an ``InlineKeyboardMarkup`` of the wrong shape or a
misspelt field is caught), plus a few cheap value checks (callback_data of 1-64 bytes, button kinds,
command names, topic names). Of the parse modes only HTML is simulated; any other is answered like an
unknown one (``unsupported parse_mode``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "telegram-bot-api" / "api.json"

PRIMITIVE_TYPES = frozenset({"Integer", "String", "Boolean", "Float", "InputFile"})

# Parameters removed from the documentation that the real Bot API still accepts (aiogram still has
# them): not rejected. name -> the documented parameter that replaced it (accepted where that one is).
LEGACY_PARAMS = {
    "reply_to_message_id": "reply_parameters",
    "allow_sending_without_reply": "reply_parameters",
    "disable_web_page_preview": "link_preview_options",
}
_LEGACY_TYPES = {
    "reply_to_message_id": "Integer",
    "allow_sending_without_reply": "Boolean",
    "disable_web_page_preview": "Boolean",
}

PARSE_MODES = frozenset({"html"})  # MarkdownV2 and legacy Markdown are not simulated
# Fields of InlineKeyboardButton that are not its "action" (exactly one action must be set).
_BUTTON_DECORATIONS = frozenset({"text", "icon_custom_emoji_id", "style"})
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_DISCRIMINATOR_RE = re.compile(r'(?:must be|always) "?([a-z_]+)"?')
# Parameters where an empty string means something ("remove the webhook"); elsewhere Telegram
# treats an empty parameter as an absent one.
_EMPTY_MEANINGFUL = frozenset({("setWebhook", "url")})
_MISSING_DESCRIPTIONS = {
    "text": "message text is empty",
    "chat_id": "chat_id is empty",
    "message_id": "message identifier is not specified",
}


@dataclass(frozen=True)
class Param:
    name: str
    types: tuple[str, ...]
    required: bool


@dataclass
class DecodedCall:
    params: dict[str, Any]
    problems: list[str] = field(default_factory=list)


class ApiSpec:
    """Methods and types of one Bot API version."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.methods: dict[str, dict[str, Param]] = {
            name: {
                f["name"]: Param(f["name"], tuple(f["types"]), bool(f["required"]))
                for f in method.get("fields", [])
            }
            for name, method in data["methods"].items()
        }
        self.returns: dict[str, tuple[str, ...]] = {
            name: tuple(method.get("returns", [])) for name, method in data["methods"].items()
        }
        self.types: dict[str, dict[str, Any]] = dict(data["types"])
        self._fields: dict[str, dict[str, Param]] = {
            name: {
                f["name"]: Param(f["name"], tuple(f["types"]), bool(f["required"]))
                for f in type_.get("fields", [])
            }
            for name, type_ in self.types.items()
        }
        self._by_lower = {name.lower(): name for name in self.methods}
        self._discriminators = {
            name: found
            for name, type_ in self.types.items()
            if type_.get("subtypes") and (found := self._discriminator(type_["subtypes"]))
        }
        self.update_types: frozenset[str] = frozenset(self._fields["Update"]) - {"update_id"}

    @classmethod
    @functools.cache
    def load(cls, path: Path = SPEC_PATH) -> ApiSpec:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def _discriminator(self, subtypes: list[str]) -> tuple[str, dict[str, str]] | None:
        """The field (``type``, ``status``, ``source``...) whose fixed value names the subtype."""
        key, values = None, {}
        for sub in subtypes:
            for f in self.types.get(sub, {}).get("fields", []):
                m = f["required"] and f["types"] == ["String"] and _DISCRIMINATOR_RE.search(f["description"])
                if m:
                    if key not in (None, f["name"]):
                        return None
                    key, values[m.group(1)] = f["name"], sub
                    break
            else:
                return None
        return (key, values) if key else None

    def canonical(self, method: str) -> str | None:
        """Method names are case-insensitive in the Bot API."""
        return self._by_lower.get(method.lower())

    def fields_of(self, type_name: str) -> dict[str, Param]:
        return self._fields.get(type_name, {})

    # ---------------------------------------------------------------------------------------- calls

    def decode_call(self, method: str, raw: Mapping[str, Any]) -> DecodedCall:
        """Decode and validate the parameters of a call to ``method`` (a canonical name)."""
        fields = self.methods[method]
        decoded = DecodedCall(params={})
        for name, value in raw.items():
            if value is None or (value == "" and (method, name) not in _EMPTY_MEANINGFUL):
                continue
            param = fields.get(name)
            if param is None:
                replacement = LEGACY_PARAMS.get(name)
                if replacement and replacement in fields:
                    decoded.params[name] = _coerce(value, (_LEGACY_TYPES[name],))
                else:
                    decoded.problems.append(f'unknown parameter "{name}" for method {method}')
                continue
            value, problem = self._decode_json(name, value, param.types)
            if problem:
                decoded.problems.append(problem)
                continue
            problems = self.check_value(value, param.types, name) if value != "" else []
            if problems:
                decoded.problems.extend(problems)
                continue
            decoded.params[name] = _coerce(value, param.types)
        for param in fields.values():
            if param.required and param.name not in decoded.params:
                decoded.problems.append(
                    _MISSING_DESCRIPTIONS.get(param.name, f'parameter "{param.name}" is required')
                )
        decoded.problems.extend(self._method_checks(method, decoded.params))
        return decoded

    def _decode_json(self, name: str, value: Any, types: tuple[str, ...]) -> tuple[Any, str | None]:
        """Form fields carry objects and arrays as JSON strings: decode those."""
        if not isinstance(value, str) or all(t in PRIMITIVE_TYPES for t in types):
            return value, None
        try:
            return json.loads(value), None
        except ValueError:
            if "String" in types:
                return value, None
            return value, f"can't parse {name} JSON object"

    def _method_checks(self, method: str, params: Mapping[str, Any]) -> list[str]:
        problems = []
        for name, value in params.items():
            if name.endswith("parse_mode") and str(value).lower() not in PARSE_MODES:
                problems.append("unsupported parse_mode")
        if method == "answerCallbackQuery" and len(params.get("text", "")) > 200:
            problems.append("MESSAGE_TOO_LONG: callback answer text is longer than 200 characters")
        if method in ("createForumTopic", "editForumTopic") and "name" in params:
            if not 1 <= len(str(params["name"]).strip()) <= 128:
                problems.append(
                    "TOPIC_TITLE_EMPTY" if not str(params["name"]).strip() else "topic name is too long"
                )
        if method == "setMyCommands" and isinstance(params.get("commands"), list):
            if len(params["commands"]) > 100:
                problems.append("too many commands: at most 100 are allowed")
        if method == "setWebhook" and "secret_token" in params:
            if not _SECRET_RE.fullmatch(str(params["secret_token"])):
                problems.append("secret token contains unallowed characters")
        if method in ("getUpdates", "setWebhook") and isinstance(params.get("allowed_updates"), list):
            unknown = sorted(set(params["allowed_updates"]) - self.update_types)
            if unknown:
                problems.append(f"unknown update types in allowed_updates: {', '.join(map(str, unknown))}")
        return problems

    # ---------------------------------------------------------------------------------------- values

    def check_value(self, value: Any, types: tuple[str, ...] | list[str], path: str) -> list[str]:
        """Problems of ``value`` against a union of spec types (empty when it fits one of them)."""
        best: list[str] | None = None
        best_score = -1
        for type_name in types:
            problems = self._check(value, type_name, path)
            if not problems:
                return []
            score = self._affinity(value, type_name)
            if score > best_score:
                best, best_score = problems, score
        return best or []

    def _affinity(self, value: Any, type_name: str) -> int:
        """How much a dict looks like ``type_name``: the best-fitting alternative explains errors."""
        while type_name.startswith("Array of "):
            if not isinstance(value, list) or not value:
                return 0
            value, type_name = value[0], type_name.removeprefix("Array of ")
        if isinstance(value, dict):
            return len(set(value) & set(self.fields_of(type_name)))
        return 0

    def _check(self, value: Any, type_name: str, path: str) -> list[str]:
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{path}: expected an Array"]
            item_type = type_name.removeprefix("Array of ")
            return [p for i, item in enumerate(value) for p in self._check(item, item_type, f"{path}[{i}]")]
        checker = _PRIMITIVE_CHECKS.get(type_name)
        if checker is not None:
            return [] if checker(value) else [f"{path}: expected {type_name}, got {_short(value)}"]
        type_ = self.types.get(type_name)
        if type_ is None or (type_name == "KeyboardButton" and isinstance(value, str)):
            return []  # unknown to the spec; a plain string button is still accepted by Telegram
        if type_.get("subtypes"):
            return self._check_abstract(value, type_name, type_["subtypes"], path)
        if not isinstance(value, dict):
            return [f"{path}: expected a {type_name} object, got {_short(value)}"]
        fields = self.fields_of(type_name)
        problems = [f'{path}: unknown field "{key}" in {type_name}' for key in value if key not in fields]
        for param in fields.values():
            if param.name in value:
                problems.extend(self.check_value(value[param.name], param.types, f"{path}.{param.name}"))
            elif param.required:
                problems.append(f'{path}: field "{param.name}" of {type_name} is required')
        extra = _TYPE_CHECKS.get(type_name)
        if extra and not problems:
            problems.extend(extra(value, path))
        return problems

    def _check_abstract(self, value: Any, type_name: str, subtypes: list[str], path: str) -> list[str]:
        found = self._discriminators.get(type_name)
        if found and isinstance(value, dict):
            key, by_value = found
            if value.get(key) not in by_value:
                return [f'{path}: unknown {type_name} {key} "{value.get(key)}"']
            return self._check(value, by_value[value[key]], path)
        return self.check_value(value, subtypes, path)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and bool(_INT_RE.fullmatch(value.strip())))


def _is_float(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float) or (
        isinstance(value, str) and bool(_FLOAT_RE.fullmatch(value.strip()))
    )


def _is_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    return (isinstance(value, int) and value in (0, 1)) or (
        isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0")
    )


def _is_string(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool))


_PRIMITIVE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "Integer": _is_int,
    "Float": _is_float,
    "Boolean": _is_bool,
    "String": _is_string,
    "InputFile": lambda value: isinstance(value, str),
}


def _coerce(value: Any, types: tuple[str, ...]) -> Any:
    """Typed value of a checked top-level parameter (form fields arrive as strings)."""
    if not isinstance(value, str):
        return value
    if "Integer" in types and _is_int(value):
        return int(value)
    if "Boolean" in types:
        return value.strip().lower() in ("true", "1")
    if "Float" in types:
        return float(value)
    return value


def _check_inline_button(button: Mapping[str, Any], path: str) -> list[str]:
    problems = []
    if not str(button.get("text", "")).strip():
        problems.append(f"{path}: BUTTON_TEXT_EMPTY: inline keyboard button text must be non-empty")
    actions = [key for key in button if key not in _BUTTON_DECORATIONS]
    if not actions:
        problems.append(
            f"{path}: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    elif len(actions) > 1:
        problems.append(
            f"{path}: can't parse inline keyboard button: exactly one of the fields {', '.join(actions)}"
            " must be used"
        )
    if "callback_data" in button and not 1 <= len(str(button["callback_data"]).encode("utf-8")) <= 64:
        problems.append(f"{path}: BUTTON_DATA_INVALID: callback_data must be 1-64 bytes")
    if "url" in button and not str(button["url"]).startswith(("http://", "https://", "tg://")):
        problems.append(f"{path}: BUTTON_URL_INVALID")
    if "style" in button and button["style"] not in ("danger", "success", "primary"):
        problems.append(f'{path}: unknown button style "{button["style"]}"')
    return problems


def _check_bot_command(command: Mapping[str, Any], path: str) -> list[str]:
    problems = []
    if not _COMMAND_RE.fullmatch(str(command["command"])):
        problems.append(f"{path}: BOT_COMMAND_INVALID: command must be 1-32 of a-z, 0-9 and _")
    if not 1 <= len(str(command["description"]).strip()) <= 256:
        problems.append(f"{path}: BOT_COMMAND_DESCRIPTION_INVALID: description must be 1-256 characters")
    return problems


_TYPE_CHECKS: dict[str, Callable[[Mapping[str, Any], str], list[str]]] = {
    "InlineKeyboardButton": _check_inline_button,
    "BotCommand": _check_bot_command,
}
