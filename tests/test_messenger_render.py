"""How outbox items look on Messenger and Instagram (bot/channels/messenger/render.py): every button
the bot can show fits Meta's 20 characters in every language without cutting a word; long texts are
split at sentence ends within 2,000 characters (Instagram: 1,000 bytes); quick replies, button
templates and the numbered fallback."""

from __future__ import annotations

import pytest

from bot import payloads
from bot.channels.messenger.render import (
    INSTAGRAM_TEXT_BYTES,
    MESSENGER_TEXT,
    TEMPLATE_TEXT,
    Labels,
    Renderer,
    split_text,
    text_fits,
    units,
)
from bot.deliveries import MediaToPerson, ToPerson
from bot.domain import LANGUAGES, Audience
from bot.texts import Content, load_content


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content()


def every_button(content: Content) -> list[tuple[str, str, str]]:
    """(language, label, payload) of every button the flows and the staff desk can show."""
    kinds: list[payloads.Payload] = [
        payloads.Menu(),
        payloads.Topics(),
        payloads.Human(),
        payloads.Talk(),
        payloads.About(),
        payloads.ChooseLanguage(),
        payloads.Forget(),
        *(payloads.SetLanguage(code) for code in LANGUAGES),
        *(payloads.Who(v) for v in ("child", "adult", "skip")),
        *(payloads.Gender(v) for v in ("female", "male", "skip")),
        *(payloads.Safety(v) for v in (True, False)),
        *(payloads.ForgetAnswer(v) for v in ("yes", "no", "wait")),
        *(payloads.CaseFeedback(v, 12345) for v in (True, False)),
        *(payloads.ArticleFeedback("anxiety", v) for v in (True, False)),
        payloads.ArticleStep("anxiety", 1),
    ]
    found = []
    for lang in LANGUAGES:
        for audience in (Audience.CHILD, Audience.ADULT):
            for kind in kinds:
                data = kind.encode()
                key = payloads.label_key(data)
                assert key is not None, data
                found.append((lang, content.t(key, lang, audience), data))
            for article in content.articles.values():
                label = content.t("btn.article", lang, audience, title=article.title[lang])
                found.append((lang, label, payloads.ArticleStep(article.id, 0).encode()))
    return found


def test_every_button_the_bot_can_show_has_a_title_that_fits(content: Content) -> None:
    labels = Labels(content)
    missing = []
    for lang, label, data in every_button(content):
        title = labels.title(label, data)
        if title is None or not 0 < units(title) <= 20:
            missing.append(f"{lang} {data}: {label!r} -> {title!r}")
    assert missing == []


def test_short_labels_are_whole_words_of_their_own_language(content: Content) -> None:
    labels = Labels(content)
    assert labels.title("👤 Məsləhətçi ilə danışmaq", "human") == "👤 Məsləhətçi"
    assert labels.title("👤 Поговорить с консультантом", "human") == "👤 Консультант"
    assert labels.title("👤 Talk to a counsellor", "human") == "👤 Counsellor"
    assert labels.title("Skip", "who:skip") == "Skip"  # fits: kept as it is
    assert labels.title("A label nobody wrote a short one for", "human") is None
    for lang in LANGUAGES:
        for key, value in content.strings[lang].items():
            if key.startswith("messenger.short."):
                assert 0 < units(value) <= 20, (lang, key, value)


def test_long_texts_are_split_at_sentence_ends(content: Content) -> None:
    sentence = "Bu, uzun bir cümlədir və heç bir söz yarıda kəsilməməlidir. "
    text = (sentence * 80).strip()
    parts = split_text(text, text_fits("messenger"))
    assert len(parts) == 3 and all(units(p) <= MESSENGER_TEXT for p in parts)
    assert all(p.endswith("kəsilməməlidir.") for p in parts) and " ".join(parts) == text
    ig = split_text(text, text_fits("instagram"))
    assert all(len(p.encode()) <= INSTAGRAM_TEXT_BYTES for p in ig) and " ".join(ig) == text
    # paragraphs and line breaks are boundaries too; a text without any is split at spaces
    lines = "\n".join(["Birinci sətir sonu nöqtəsiz"] * 150)
    assert all(p.endswith("nöqtəsiz") for p in split_text(lines, text_fits("messenger")))
    words = " ".join(["söz"] * 1500)
    assert all(
        p.endswith("söz") and units(p) <= MESSENGER_TEXT for p in split_text(words, text_fits("messenger"))
    )
    # only a single "word" longer than a message (a long link) is ever cut
    link = "https://example.org/" + "a" * 2500
    parts = split_text(f"Baxın: {link} sonra yazın.", text_fits("messenger"))
    assert "".join(parts).replace(" ", "") == f"Baxın:{link}sonrayazın." and all(
        units(p) <= 2000 for p in parts
    )
    assert split_text("   ", text_fits("messenger")) == []


def test_quick_replies_go_on_the_last_part_and_templates_when_more_follows(content: Content) -> None:
    renderer = Renderer(content)
    buttons = [
        [{"text": "Təhlükədə deyiləm", "data": "safe:yes"}, {"text": "Bəli, təhlükə var", "data": "safe:no"}]
    ]
    long = "Sən tək deyilsən. " * 200
    messages = renderer.messages("messenger", ToPerson(text=long, buttons=buttons))
    assert all("quick_replies" not in m for m in messages[:-1])
    assert [q["payload"] for q in messages[-1]["quick_replies"]] == ["safe:yes", "safe:no"]
    # more messages follow: the buttons stay in a template; its text within 640 characters
    followed = renderer.messages("messenger", ToPerson(text=long, buttons=buttons), followed=True)
    template = followed[-1]["attachment"]["payload"]
    assert template["template_type"] == "button" and units(template["text"]) <= TEMPLATE_TEXT
    assert [b["payload"] for b in template["buttons"]] == ["safe:yes", "safe:no"]
    assert " ".join([m["text"] for m in followed[:-1]] + [template["text"]]) == long.strip()
    # four buttons do not fit a template: quick replies even then
    four = [[{"text": str(i), "data": f"lang:{c}"} for i, c in enumerate(("az", "ru", "en", "az"))]]
    assert "quick_replies" in renderer.messages("instagram", ToPerson("Seçin", four), followed=True)[-1]


def test_a_label_without_a_short_form_numbers_the_options_instead_of_cutting(content: Content) -> None:
    renderer = Renderer(content)
    buttons = [
        [
            {"text": "Bu düymənin adı çox uzundur və qısası yoxdur", "data": "menu"},
            {"text": "Menyu", "data": "menu"},
        ]
    ]
    [message] = renderer.messages("messenger", ToPerson(text="Seçin:", buttons=buttons))
    assert message["text"] == "Seçin:\n\n1. Bu düymənin adı çox uzundur və qısası yoxdur\n2. Menyu"
    assert [(q["title"], q["payload"]) for q in message["quick_replies"]] == [("1", "menu"), ("2", "menu")]


def test_more_than_13_options_go_in_templates_of_three(content: Content) -> None:
    renderer = Renderer(content)
    buttons = [[{"text": f"Seçim {i}", "data": f"art:a{i}:1"} for i in range(17)]]
    messages = renderer.messages("messenger", ToPerson(text="Mövzu seçin", buttons=buttons))
    templates = [m["attachment"]["payload"] for m in messages]
    assert templates[0]["text"] == "Mövzu seçin" and len(templates) == 6
    assert [b["payload"] for t in templates for b in t["buttons"]] == [f"art:a{i}:1" for i in range(17)]


def test_a_counsellors_file_is_named_and_empty_items_send_nothing(content: Content) -> None:
    renderer = Renderer(content)
    label = content.t("relay.media", "az")
    media = MediaToPerson(media="photo", label=label, media_ref={"from_chat_id": -100, "message_id": 5})
    assert renderer.messages("messenger", media) == [{"text": label}]
    assert renderer.messages("messenger", ToPerson(text="  ")) == []
