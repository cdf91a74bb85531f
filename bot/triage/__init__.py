"""Triage: normalisation, language, explainable risk concepts and rules, and a trained classifier.

Public interface::

    from bot.triage import Triager, load_triager, signal_label
    triager = load_triager()                 # trains on first use, then loads the cached model
    result = triager.analyze(text, prior=case_signals, history=earlier_messages)
    signal_label("suicide_plan", "az")       # counsellor-readable label of a signal code
"""

from __future__ import annotations

from bot.triage.triager import Triager, load_triager, model_signal_labels


def signal_label(code: str, lang: str) -> str | None:
    """The counsellor-readable label of a signal code (a concept, a rule or the model's own signal)
    in ``lang`` (az, ru or en; other languages get English), or None for an unknown code."""
    from bot.triage.risk import load_rules

    labels = model_signal_labels().get(code)
    if labels is not None:
        return labels.get(lang) or labels.get("en")
    return load_rules().label(code, lang)


__all__ = ["Triager", "load_triager", "signal_label"]
