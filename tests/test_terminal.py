"""The terminal channel: the scriptable JSON-lines chat and the counsellor console."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from bot.channels.terminal import run_jsonl, run_staff
from bot.storage.models import Case, Message

ROOT = Path(__file__).resolve().parents[1]


async def jsonl(app: App, *lines: dict | str) -> list[dict]:
    stdin = io.StringIO(
        "".join(
            (line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n" for line in lines
        )
    )
    stdout = io.StringIO()
    assert await run_jsonl(app, stdin, stdout) == 0
    return [json.loads(x) for x in stdout.getvalue().splitlines()]


async def test_jsonl_done_when_script(sqlite_app: App) -> None:
    out = await jsonl(
        sqlite_app,
        {"user": "u1", "text": "Salam"},
        {"user": "u1", "button": "human"},
        {"user": "u2", "text": "Özümü öldürmək istəyirəm"},
    )
    messages = [o for o in out if "to" in o]
    events = [o for o in out if "event" in o]
    welcome = messages[0]
    assert welcome["to"] == "u1" and "116111" in welcome["text"] and "112" in welcome["text"]
    assert {b["data"] for b in welcome["buttons"]} == {"topics", "human"}
    assert all(set(b) == {"text", "data"} for m in messages for b in m["buttons"])
    opened = [e for e in events if e["event"] == "case_opened"]
    assert len(opened) == 2
    crisis = opened[1]
    assert crisis["priority"] == max(e["priority"] for e in opened) and crisis["risk"] in (
        "urgent",
        "imminent",
    )
    assert set(crisis) >= {"event", "case", "priority", "risk", "category"}
    crisis_text = next(m["text"] for m in messages if m["to"] == "u2")
    assert "112" in crisis_text and "116111" in crisis_text


async def test_jsonl_bad_lines_get_an_error_and_nothing_stops(sqlite_app: App) -> None:
    out = await jsonl(
        sqlite_app,
        "not json",
        "[1, 2]",
        {"text": "no user"},
        {"user": "u1", "text": 5},
        {"user": "u1"},
        {"user": "u1", "text": "Salam"},
    )
    errors = [o for o in out if "error" in o]
    assert [e["line"] for e in errors] == [1, 2, 3, 4, 5]
    assert any(o.get("to") == "u1" for o in out)


async def test_jsonl_forget(sqlite_app: App) -> None:
    await jsonl(
        sqlite_app,
        {"user": "f", "text": "anam məni döyür, evdən qaçmaq istəyirəm"},
        {"user": "f", "text": "/forget"},
        {"user": "f", "button": "forget:yes"},
    )
    async with sqlite_app.sessions() as s:
        remaining = [t for t in await s.scalars(select(Message.text)) if t]
    assert not any("döyür" in t for t in remaining)


async def test_staff_console_claims_replies_and_closes(sqlite_app: App) -> None:
    await jsonl(sqlite_app, {"user": "teen", "text": "insanla danışmaq istəyirəm"})
    out = io.StringIO()
    commands = ["queue", "claim 1", "reply 1 Salam, mən məsləhətçiyəm.", "claim 1", "close 1"]
    script = io.StringIO("\n".join([*commands, "close 1 advice", "show 1", "bogus", "quit"]) + "\n")
    assert await run_staff(sqlite_app, "Aynur", stdin=script, stdout=out, lang="en") == 0
    text = out.getvalue()
    assert "#1" in text and "is yours" in text and "Usage" in text
    assert "#1 is already yours." in text  # claiming twice: it is you who has it
    assert "How did #1 end?" in text and "family_meeting" in text  # close asks for the outcome
    assert "#1 closed." in text
    async with sqlite_app.sessions() as s:
        case = await s.get(Case, 1)
    assert (case.status, case.outcome, case.closed_by) == ("closed", "advice", "Aynur")
    delivered = await jsonl(sqlite_app)  # drains what the counsellor sent
    assert any("Salam, mən məsləhətçiyəm." in m.get("text", "") for m in delivered)
    assert all("Aynur" not in m.get("text", "") for m in delivered)


def test_cli_chat_jsonl_end_to_end(tmp_path: Path, triage_cache: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_URL"))}
    env["DATA_DIR"] = str(tmp_path)
    lines = [{"user": "u1", "text": "Salam"}, {"user": "u1", "text": "Özümü öldürmək istəyirəm"}]
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--jsonl"],
        input="".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines),
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert out[0]["to"] == "u1" and "116111" in out[0]["text"]
    assert any(o.get("event") == "case_opened" for o in out)
    assert (tmp_path / "helpline.db").exists()
