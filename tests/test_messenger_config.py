"""Messenger settings: all three secrets or none; a partial set stops the start with one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import DEFAULT_MESSENGER_API_URL, ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]
SECRET = "x" * 20
FULL = {
    "MESSENGER_PAGE_TOKEN": "EAAG-page-token",
    "MESSENGER_APP_SECRET": "app-secret",
    "MESSENGER_VERIFY_TOKEN": "verify-me",
    "PSEUDONYM_SECRET": SECRET,
}


def test_all_three_turn_messenger_on(tmp_path: Path) -> None:
    s = load_settings({"DATA_DIR": str(tmp_path), **FULL}, env_file=None)
    assert s.messenger_enabled and s.messenger_api_url == DEFAULT_MESSENGER_API_URL
    assert s.staff_channel == "console"  # without Telegram the counsellors use the console
    off = load_settings({"DATA_DIR": str(tmp_path)}, env_file=None)
    assert not off.messenger_enabled
    pinned = load_settings(
        {"DATA_DIR": str(tmp_path), **FULL, "MESSENGER_API_URL": "http://127.0.0.1:9/v1.0/"}, env_file=None
    )
    assert pinned.messenger_api_url == "http://127.0.0.1:9/v1.0"


@pytest.mark.parametrize(
    ("drop", "named"),
    [
        (["MESSENGER_PAGE_TOKEN"], "MESSENGER_PAGE_TOKEN"),
        (["MESSENGER_APP_SECRET"], "MESSENGER_APP_SECRET"),
        (["MESSENGER_VERIFY_TOKEN"], "MESSENGER_VERIFY_TOKEN"),
        (["MESSENGER_PAGE_TOKEN", "MESSENGER_VERIFY_TOKEN"], "MESSENGER_PAGE_TOKEN"),
    ],
)
def test_a_partial_set_is_an_error_naming_what_is_missing(
    tmp_path: Path, drop: list[str], named: str
) -> None:
    env = {k: v for k, v in FULL.items() if k not in drop}
    with pytest.raises(ConfigError) as caught:
        load_settings({"DATA_DIR": str(tmp_path), **env}, env_file=None)
    assert caught.value.setting == named


def test_bad_values_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {"DATA_DIR": str(tmp_path), **FULL, "MESSENGER_API_URL": "graph.facebook.com"}, env_file=None
        )
    assert caught.value.setting == "MESSENGER_API_URL"
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {"DATA_DIR": str(tmp_path), **FULL, "MESSENGER_VERIFY_TOKEN": "two words"}, env_file=None
        )
    assert caught.value.setting == "MESSENGER_VERIFY_TOKEN"
    without_secret = {k: v for k, v in FULL.items() if k != "PSEUDONYM_SECRET"}
    with pytest.raises(ConfigError) as caught:
        load_settings({"DATA_DIR": str(tmp_path), **without_secret}, env_file=None)
    assert caught.value.setting == "PSEUDONYM_SECRET"


def test_the_cli_says_one_line_and_exits_2(tmp_path: Path) -> None:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MESSENGER_", "DATABASE_URL"))
    }
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env={
            **base,
            "PYTHONPATH": str(ROOT),
            "DATA_DIR": str(tmp_path),
            "MESSENGER_APP_SECRET": "hunter2-app-secret",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        "configuration error: MESSENGER_PAGE_TOKEN: is required with MESSENGER_APP_SECRET"
    )
    assert proc.stderr.count("\n") == 1 and "hunter2" not in proc.stderr + proc.stdout
