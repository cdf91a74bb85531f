"""The counsellors teach the triage: export their reviews of closed cases as labelled examples.

When a counsellor closes a case they confirm or correct its risk and category (one tap each); the
desk stores that with the person's words (``triage_labels``; never for a person who used /forget,
deleted by /forget later, and kept no longer than ``TRIAGE_LABEL_DAYS``). ``python -m bot
triage-learn`` writes them to a JSONL file that retraining reads (``load_triager(extra=...)``), and
``python -m bot triage-eval --labels FILE`` shows the held-out figures before and after.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.storage.models import TriageLabel

if TYPE_CHECKING:
    from bot.app import App


async def export_labels(app: App, out: Path) -> int:
    """Write every stored label as one JSON line (the file is readable by the owner only)."""
    async with app.db.read() as session:
        rows = list(await session.scalars(select(TriageLabel).order_by(TriageLabel.id)))
    out.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for row in rows:
            line = {
                "text": row.text,
                "risk": row.risk,
                "category": row.category,
                "lang": row.language,
                "predicted_risk": row.predicted_risk,
                "predicted_category": row.predicted_category,
                "source": "counsellor",
            }
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    os.replace(tmp, out)
    return len(rows)
