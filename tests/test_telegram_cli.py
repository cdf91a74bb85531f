"""``python -m bot run`` with TELEGRAM_BOT_TOKEN set runs the Telegram channel (against the local Bot
API through TELEGRAM_API_URL), stops cleanly on SIGTERM, and its log carries no message text or ids."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.botapi import DEFAULT_TOKEN
from tests.telegram_fixtures import ROOT, SECRET, TG

USER = 987_654_321
WORDS = "gizli sözlərim burada"


@pytest.mark.parametrize("tg", [{"start": False}], indirect=True)
async def test_python_m_bot_run_serves_telegram(
    tg: TG, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    # the model the test session trained, so the bot loads it instead of training again
    (data / "cache").symlink_to(Path(request.getfixturevalue("triage_cache")), target_is_directory=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_STAFF_CHAT_ID": str(tg.staff),
        "TELEGRAM_API_URL": tg.server.base_url,
        "DATABASE_URL": tg.app.settings.database_url,
        "PSEUDONYM_SECRET": SECRET,
        "DATA_DIR": str(data),
        "LOG_LEVEL": "INFO",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=str(tmp_path), stderr=asyncio.subprocess.PIPE
    )
    try:
        tg.server.user_sends_text(USER, WORDS, language_code="az")
        await tg.server.wait_for_sent(chat_id=USER, timeout=60.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    log = stderr.decode()
    assert proc.returncode == 0, log
    assert "telegram channel started" in log
    assert WORDS not in log and str(USER) not in log
