"""Settings: one typed object; a bad setting stops the start with one clear line and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_use_sqlite_under_data_dir(tmp_path: Path) -> None:
    s = load_settings({"DATA_DIR": str(tmp_path)}, env_file=None)
    assert s.database_url.startswith("sqlite+aiosqlite:///") and s.database_url.endswith("helpline.db")
    assert s.telegram_enabled is False and s.staff_channel == "console"  # the terminal console
    # a generated secret is kept beside the database and reused
    again = load_settings({"DATA_DIR": str(tmp_path)}, env_file=None)
    assert s.pseudonym_secret == again.pseudonym_secret and len(s.pseudonym_secret) >= 32


def test_postgres_urls_are_normalised(tmp_path: Path) -> None:
    s = load_settings(
        {
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://u:p@db:5432/helpline",
            "PSEUDONYM_SECRET": "x" * 20,
        },
        env_file=None,
    )
    assert s.database_url == "postgresql+asyncpg://u:p@db:5432/helpline"


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("LOG_LEVEL=debug\nREMIND_URGENT_SECONDS=120\n")
    s = load_settings({"DATA_DIR": str(tmp_path), "REMIND_URGENT_SECONDS": "90"}, env_file=env)
    assert s.log_level == "DEBUG" and s.remind_urgent_seconds == 90


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        (
            {"TELEGRAM_BOT_TOKEN": "123:abc", "TELEGRAM_STAFF_CHAT_ID": "abc", "PSEUDONYM_SECRET": "x" * 20},
            "TELEGRAM_STAFF_CHAT_ID",
        ),
        ({"TELEGRAM_BOT_TOKEN": "123:abc", "PSEUDONYM_SECRET": "x" * 20}, "TELEGRAM_STAFF_CHAT_ID"),
        ({"TELEGRAM_BOT_TOKEN": "nonsense", "TELEGRAM_STAFF_CHAT_ID": "-100"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "123:abc", "TELEGRAM_STAFF_CHAT_ID": "-100"}, "PSEUDONYM_SECRET"),
        ({"PSEUDONYM_SECRET": "short"}, "PSEUDONYM_SECRET"),
        ({"TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL"),
        ({"REMIND_IMMINENT_SECONDS": "soon"}, "REMIND_IMMINENT_SECONDS"),
        ({"CONVERSATION_IDLE_HOURS": "-1"}, "CONVERSATION_IDLE_HOURS"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"TELEGRAM_WEBHOOK_URL": "https://bot.example/hook"}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_WEBHOOK_LISTEN": "nowhere"}, "TELEGRAM_WEBHOOK_LISTEN"),
    ],
)
def test_bad_settings_name_the_setting(tmp_path: Path, env: dict, setting: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"DATA_DIR": str(tmp_path), **env}, env_file=None)
    assert info.value.setting == setting


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        (
            {
                "TELEGRAM_BOT_TOKEN": "123:abc",
                "TELEGRAM_STAFF_CHAT_ID": "staff",
                "PSEUDONYM_SECRET": "x" * 20,
            },
            "TELEGRAM_STAFF_CHAT_ID",
        ),
    ],
)
def test_cli_exits_2_with_one_line(tmp_path: Path, env: dict, setting: str) -> None:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_URL"))}
    full.update({"DATA_DIR": str(tmp_path), **env})
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "db", "current"],
        cwd=tmp_path,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and setting in lines[0] and "Traceback" not in proc.stderr


def test_help_lists_the_commands() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert proc.returncode == 0
    for command in ("run", "chat", "staff", "db", "triage", "triage-eval", "report"):
        assert command in proc.stdout
