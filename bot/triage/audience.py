"""Who is writing and about whom: patterns of bot/content/triage/audience.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.triage.normalize import fold_pattern
from bot.triage.resources import load_yaml


@dataclass(frozen=True)
class Markers:
    adult: re.Pattern[str]  # a parent, teacher or other adult writes about a child
    child: re.Pattern[str]  # a child or teenager speaks about themself
    third: re.Pattern[str]  # someone other than the writer
    first: re.Pattern[str]  # the writer speaks about themself

    def found(self, folded: str) -> list[str]:
        return [name for name in ("adult", "child", "third", "first") if getattr(self, name).search(folded)]


def _compile(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fold_pattern(str(p))})" for p in patterns) or r"(?!x)x")


@lru_cache(maxsize=1)
def markers() -> Markers:
    d = load_yaml("audience.yaml")
    return Markers(
        adult=_compile(d.get("adult") or []),
        child=_compile(d.get("child") or []),
        third=_compile(d.get("third_person") or []),
        first=_compile(d.get("first_person") or []),
    )
