"""Normalisation and language detection (no model needed)."""

from __future__ import annotations

import re

import pytest

from bot.triage.language import detect_language
from bot.triage.normalize import az_lower, fold, fold_pattern, normalize


def test_azerbaijani_lowercase_dotted_and_dotless_i():
    assert az_lower("İSTƏYİRƏM") == "istəyirəm"
    assert az_lower("QIZIM") == "qızım"
    assert az_lower("İnsan Işığı") == "insan ışığı"


@pytest.mark.parametrize(
    "variants",
    [
        (
            "özümü öldürmək istəyirəm",
            "ozumu oldurmek isteyirem",
            "ÖZÜMÜ ÖLDÜRMƏK İSTƏYİRƏM",
            "Өзүмү өлдүрмәк истәјирәм",
        ),
        (
            "yaşamaq istəmirəm",
            "yasamaq istemirem",
            "yawamaq istemirem",
            "yashamaq istemirem",
            "Јашамаг истәмирәм",
        ),
        ("çox pisəm", "cox pisem", "çoooox pisəmmm", "chox pisem"),
        ("başqa", "bawqa", "bashqa", "basqa"),
        ("ağlayıram", "aglayiram", "aqlayiram", "aghlayiram"),
    ],
)
def test_spelling_variants_fold_to_the_same_form(variants):
    folded = {fold(v) for v in variants}
    assert len(folded) == 1, folded


def test_azerbaijani_cyrillic_is_transliterated_and_russian_folds_like_russian_in_latin_letters():
    az = normalize("Мән өлмәк истәјирәм")
    assert az.az_cyrillic
    assert az.folded.strip() == "men olmek isteyirem"
    ru = normalize("Я хочу умереть")
    assert not ru.az_cyrillic
    assert "хочу" in ru.lower  # the language detector still sees Cyrillic
    assert (
        ru.folded
        == normalize("ya hochu umeret").folded
        == normalize("Ja xochu umeret'").folded.replace(" ja ", " ya ")
    )


@pytest.mark.parametrize(
    "variants",
    [
        ("не хочу жить", "ne xochu jit", "ne hochu zhit", "ne xocu jit"),
        ("убью себя", "ubyu sebya", "ub'yu sebya"),
        ("мне плохо", "mne ploho", "mne ploxo"),
    ],
)
def test_russian_in_latin_letters_folds_like_cyrillic(variants):
    assert len({fold(v) for v in variants}) == 1


def test_azerbaijani_typed_on_a_russian_keyboard_is_recognised():
    n = normalize("мен олмек истейирем, хеч ким мени анламыр")
    assert n.az_cyrillic
    assert "olmek isteyirem" in n.folded


def test_emoji_are_kept_as_tokens_and_repeats_squeezed():
    n = normalize("bu gecə💊💊💊 bitəcək😭😭")
    assert "💊" in n.tokens and "😭" in n.tokens
    assert n.tokens.count("💊") == 1
    assert n.emoji.count("💊") == 3


def test_chat_spellings_are_mapped():
    assert fold("bilmirm nolub mene") == fold("bilmirəm nə olub mənə")
    assert fold("isdiyirem") == fold("istəyirəm")
    assert fold("slm") == "salam"


def test_punctuation_and_apostrophes():
    assert fold("don't  want... to live!!!") == fold("dont want to live")


def test_fold_pattern_folds_literals_but_keeps_regex_syntax():
    rx = re.compile(fold_pattern(r"\bözümü\s+(?:\S+\s+)?öldür\w*"))
    assert rx.search(normalize("özümü artıq öldürəcəm").folded)
    assert rx.search(normalize("ozumu oldurecem").folded)
    assert fold_pattern(r"\bkill+\b") == r"\bkil+\b"
    assert fold_pattern("[gq]ız") == "[qq]iz"
    # escapes are not folded: \w stays \w (w would otherwise become s)
    assert fold_pattern(r"\w+") == r"\w+"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Mən ölmək istəyirəm", "az"),
        ("ozumu cox pis hiss edirem", "az"),
        ("yasamaq istemirem", "az"),
        ("hec kim meni basa dusmur", "az"),
        ("salam", "az"),
        ("Мән өлмәк истәјирәм", "az"),
        ("мен олмек истейирем", "az"),
        ("mama menə ne ponimayet", "az"),
        ("ваще heç kim məni başa düşmür", "az"),
        ("Я хочу умереть", "ru"),
        ("привет", "ru"),
        ("ya hochu umeret", "ru"),
        ("I want to die", "en"),
        ("hello, is anyone there?", "en"),
        ("Ölmek istiyorum, kimse beni anlamıyor", "tr"),
        ("Ben çok yalnızım, annem beni dinlemiyor", "tr"),
        ("okulda herkes benimle dalga geçiyor", "tr"),
        ("Ich bin so traurig und allein", "de"),
        ("Привіт, мені дуже погано", "uk"),
        ("😭😭", "unknown"),
        ("", "unknown"),
    ],
)
def test_language_detection(text, lang):
    assert detect_language(normalize(text)) == lang
