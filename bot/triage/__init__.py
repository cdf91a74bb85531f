"""Triage: normalisation, language, explainable risk rules and a trained classifier.

Public interface::

    from bot.triage import Triager, load_triager
    triager = load_triager()            # trains on first use, then loads the cached model
    result = triager.analyze(text, prior=earlier_signals)
"""

from bot.triage.triager import Triager, load_triager

__all__ = ["Triager", "load_triager"]
