"""Access to the triage data files in ``bot/content/triage`` and the taxonomy."""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
TRIAGE_CONTENT_DIR = CONTENT_DIR / "triage"
CORPUS_DIR = TRIAGE_CONTENT_DIR / "corpus"
TAXONOMY_PATH = CONTENT_DIR / "taxonomy.yaml"


@cache
def load_yaml(name: str) -> dict[str, Any]:
    """Load ``bot/content/triage/<name>`` (cached for the life of the process)."""
    with (TRIAGE_CONTENT_DIR / name).open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return data or {}


@lru_cache(maxsize=1)
def load_taxonomy() -> dict[str, Any]:
    with TAXONOMY_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def topic_categories() -> dict[str, str]:
    """topic code -> category code, from taxonomy.yaml."""
    topics = load_taxonomy().get("topics") or {}
    return {code: str(info.get("category", "other")) for code, info in topics.items()}


def category_codes() -> tuple[str, ...]:
    return tuple((load_taxonomy().get("categories") or {}).keys())
