"""Tests of the local Bot API server, driven by the real aiogram client over HTTP."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from aiogram import Dispatcher, F
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    CallbackQuery,
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.botapi import (
    NEWER_API_FIELDS,
    SPEC_PATH,
    BotAPIServer,
    make_bot_fixture,
    make_server_fixture,
    render,
)
from tests.botapi.formatting import EntityParseError

USER = 42
ADMIN = 501
COUNSELLOR = 502

server = make_server_fixture("server", staff_members={ADMIN: "administrator", COUNSELLOR: "member"})
bot = make_bot_fixture("bot", "server")


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data)] for text, data in pairs]
    )


async def raw_call(server: BotAPIServer, method: str, **payload: object) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.base_url}/bot{server.token}/{method}", json=payload) as response,
    ):
        return response.status, await response.json()


def test_spec_is_found_relative_to_the_repository() -> None:
    assert SPEC_PATH.is_file()
    assert SPEC_PATH.parent.name == "telegram-bot-api"


async def test_get_me(server, bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456789
    assert me.is_bot and me.username == "helpline_test_bot"
    assert [call.method for call in server.calls] == ["getMe"]


async def test_send_message_with_inline_keyboard(server, bot) -> None:
    server.user_sends_text(USER, "salam", first_name="Aysel")
    first = await bot.send_message(
        USER, "<b>Salam</b>, necəsən? 🙂", parse_mode="HTML", reply_markup=keyboard(("Yaxşı", "mood:ok"))
    )
    second = await bot.send_message(USER, "İkinci")

    assert second.message_id == first.message_id + 1 == 3  # the user's message was 1
    assert first.text == "Salam, necəsən? 🙂"
    assert first.entities[0].type == "bold" and first.entities[0].length == 5
    assert first.chat.first_name == "Aysel"
    sent = server.sent(chat_id=USER)
    assert [m.text for m in sent] == ["Salam, necəsən? 🙂", "İkinci"]
    assert sent[0].callback_data == ["mood:ok"]
    assert sent[0].method == "sendMessage" and sent[0].kind == "text" and sent[1].reply_markup is None


async def test_copy_message_into_a_forum_topic(server, bot) -> None:
    photo = server.user_sends_photo(USER, caption="Bax bura")
    topic = await bot.create_forum_topic(server.staff_chat_id, "Müraciət #1")
    copied = await bot.copy_message(
        server.staff_chat_id, USER, photo["message"]["message_id"], message_thread_id=topic.message_thread_id
    )

    [copy] = server.sent(thread_id=topic.message_thread_id)
    assert copy.message_id == copied.message_id > topic.message_thread_id
    assert copy.method == "copyMessage" and copy.kind == "photo" and copy.text == "Bax bura"
    assert copy.data["photo"] == photo["message"]["photo"]
    assert copy.copied_from == (USER, photo["message"]["message_id"])
    # as on Telegram, a message in a topic replies to the topic's creation message
    assert copy.data["reply_to_message"]["forum_topic_created"]["name"] == "Müraciət #1"
    assert server.topics[topic.message_thread_id].name == "Müraciət #1"


async def test_deleted_topic_makes_copy_message_fail(server, bot) -> None:
    server.user_sends_text(USER, "kömək lazımdır")
    topic = await bot.create_forum_topic(server.staff_chat_id, "Case")
    server.delete_topic(topic.message_thread_id)

    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.copy_message(server.staff_chat_id, USER, 1, message_thread_id=topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(server.staff_chat_id, "x", message_thread_id=topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="TOPIC_ID_INVALID"):
        await bot.close_forum_topic(server.staff_chat_id, topic.message_thread_id)
    assert server.topics[topic.message_thread_id].deleted
    assert server.violations == []  # a runtime error the bot must handle, not a malformed call
    assert len(server.errors) == 3


async def test_forum_topic_lifecycle_and_staff_messages(server, bot) -> None:
    topic = await bot.create_forum_topic(server.staff_chat_id, "Case 7")
    thread = topic.message_thread_id
    assert await bot.close_forum_topic(server.staff_chat_id, thread)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(server.staff_chat_id, thread)
    assert await bot.reopen_forum_topic(server.staff_chat_id, thread)
    assert await bot.edit_forum_topic(server.staff_chat_id, thread, name="Case 7 (urgent)")
    assert server.topics[thread].name == "Case 7 (urgent)" and not server.topics[thread].closed

    sent = await bot.send_message(server.staff_chat_id, "Yeni müraciət", message_thread_id=thread)
    update = server.staff_sends_text(COUNSELLOR, "Mən baxıram", thread_id=thread)
    message = update["message"]
    assert message["is_topic_message"] and message["message_thread_id"] == thread
    assert message["reply_to_message"]["message_id"] == thread  # the topic's creation message
    reply = server.staff_sends_text(ADMIN, "Cavab", thread_id=thread, reply_to_message_id=sent.message_id)
    assert reply["message"]["reply_to_message"]["text"] == "Yeni müraciət"
    with pytest.raises(ValueError, match="not in the staff chat"):
        server.staff_sends_text(999, "kənar adam")

    server.delete_topic(thread)  # by a human: the topic's messages go with it
    assert server.topics[thread].deleted and server.message(server.staff_chat_id, sent.message_id).deleted


async def test_rate_limit_becomes_telegram_retry_after(server, bot) -> None:
    server.add_user(USER)
    server.rate_limit(1, retry_after=3, chat_id=USER)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "salam")
    assert caught.value.retry_after == 3
    assert server.calls[-1].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    await bot.send_message(USER, "salam")  # only one call was limited
    assert len(server.sent(chat_id=USER)) == 1


async def test_injected_500_becomes_telegram_server_error(server, bot) -> None:
    server.add_user(USER)
    server.fail_next("sendMessage", 2, status=500)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.send_message(USER, "salam")
    await bot.send_message(USER, "salam")
    assert [c.status for c in server.calls if c.method == "sendMessage"] == [500, 500, 200]


async def test_server_down_modes(server, bot) -> None:
    server.set_down(True)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.get_me()
    server.set_down(True, mode="close")
    with pytest.raises(TelegramNetworkError):
        await bot.get_me()
    server.set_down(False)
    assert (await bot.get_me()).is_bot


async def test_get_updates_long_polling_and_offset_confirmation(server, bot) -> None:
    server.user_sends_text(USER, "salam")
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates] == ["salam"]
    again = await bot.get_updates(timeout=0)  # not confirmed yet: delivered again
    assert [u.update_id for u in again] == [updates[0].update_id]

    menu = await bot.send_message(USER, "Seç:", reply_markup=keyboard(("Bəli", "yes"), ("Xeyr", "no")))
    server.user_presses(USER, menu.message_id, "yes")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    [press] = updates
    assert press.callback_query.data == "yes" and press.callback_query.message.message_id == menu.message_id
    assert await press.callback_query.answer("Qəbul edildi").as_(bot)
    assert server.callback_answers[0].text == "Qəbul edildi" and server.unanswered_callbacks == []

    # a long poll returns as soon as an update arrives
    offset = press.update_id + 1
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(offset=offset, timeout=1))
    await asyncio.sleep(0.05)
    server.user_sends_text(USER, "yenə mən")
    [late] = await poll
    assert late.message.text == "yenə mən" and time.monotonic() - started < 0.5

    assert [u.update_id for u in await bot.get_updates(offset=late.update_id + 1, timeout=0)] == []
    assert server.pending_updates == []
    with pytest.raises(AssertionError, match="no button with callback_data"):
        server.user_presses(USER, menu.message_id, "forged")


async def test_long_poll_timeout_is_capped_and_allowed_updates_filter() -> None:
    async with BotAPIServer(max_poll_timeout=0.2) as server:
        bot = server.make_bot()
        try:
            started = time.monotonic()
            assert await bot.get_updates(timeout=30, allowed_updates=["message"]) == []
            assert 0.15 < time.monotonic() - started < 1.0

            menu = await bot.send_message(server.add_user(USER).id, "Seç:", reply_markup=keyboard(("A", "a")))
            server.user_presses(USER, menu.message_id, "a")  # not in allowed_updates: dropped, as on Telegram
            server.user_sends_text(USER, "salam")
            assert [u.message.text for u in await bot.get_updates(timeout=0)] == ["salam"]
            assert server.pending_updates[0]["message"]["text"] == "salam"
        finally:
            await bot.session.close()
        server.assert_no_violations()


async def test_duplicate_update_ids_are_delivered_twice(server, bot) -> None:
    first = server.user_sends_text(USER, "salam")
    server.enqueue_raw(first)
    assert len(await bot.get_updates(timeout=0, limit=1)) == 1
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first["update_id"]] * 2
    await bot.get_updates(offset=first["update_id"] + 1, timeout=0)
    server.enqueue_raw(first)  # a redelivery after confirmation still arrives
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [first["update_id"]]
    server.enqueue_raw({"message": {"text": "broken"}})  # malformed: no message_id/chat/date
    assert server.pending_updates[-1]["message"] == {"text": "broken"}


async def test_unknown_parameter_is_recorded_as_violation(server) -> None:
    server.add_user(USER)
    status, body = await raw_call(server, "sendMessage", chat_id=USER, text="salam", colour="red")
    assert status == 400 and body["ok"] is False and body["error_code"] == 400
    assert body["description"] == 'Bad Request: unknown parameter "colour" for method sendMessage'
    assert [v.method for v in server.violations] == ["sendMessage"]
    assert server.sent() == []

    status, body = await raw_call(server, "sendMessage", chat_id=USER)
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    status, body = await raw_call(server, "sendMessage", chat_id="x1", text="a", message_thread_id="one")
    assert status == 400 and "message_thread_id: expected Integer" in body["description"]
    with pytest.raises(AssertionError, match='unknown parameter "colour"'):
        server.assert_no_violations()
    server.violations.clear()


async def test_unknown_method_is_404(server, bot) -> None:
    status, body = await raw_call(server, "sendTelepathy", chat_id=USER)
    assert (status, body) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    status, body = await raw_call(server, "GETME")  # method names are case-insensitive
    assert status == 200 and body["result"]["is_bot"] is True
    assert server.violations[0].description == "Not Found: method not found"
    server.violations.clear()


async def test_malformed_markup_and_text_are_rejected(server, bot) -> None:
    server.add_user(USER)
    too_long = "x" * 65
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "Seç", reply_markup=keyboard(("A", too_long)))
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "br"'):
        await bot.send_message(USER, "Salam<br>dostum", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="unsupported parse_mode"):  # HTML only is simulated
        await bot.send_message(USER, "*Salam*", parse_mode="MarkdownV2")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "a" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, "  \n ")
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(
            USER, "Seç", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="A")]])
        )
    assert len(server.violations) == 6 and server.sent() == []
    server.violations.clear()
    await bot.send_message(USER, "a" * 4096)  # the limit itself is fine
    assert len(server.sent()) == 1


async def test_edits_deletes_and_callback_answers(server, bot) -> None:
    server.add_user(USER)
    menu = await bot.send_message(USER, "Seç:", reply_markup=keyboard(("Bəli", "yes")))
    edited = await bot.edit_message_text("Seçildi", chat_id=USER, message_id=menu.message_id)
    assert edited.text == "Seçildi" and edited.reply_markup is None  # no reply_markup removes the keyboard
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Seçildi", chat_id=USER, message_id=menu.message_id)
    stored = server.sent(chat_id=USER)[0]
    assert stored.edited and stored.history[0]["text"] == "Seç:" and stored.text == "Seçildi"
    await bot.edit_message_reply_markup(
        chat_id=USER, message_id=menu.message_id, reply_markup=keyboard(("Yenə", "again"))
    )
    assert stored.callback_data == ["again"]

    press = server.user_presses(USER, menu.message_id, "again")
    query_id = press["callback_query"]["id"]
    assert await bot.answer_callback_query(query_id, text="OK")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)

    assert await bot.delete_message(USER, menu.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, menu.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=menu.message_id)
    assert stored.deleted and server.violations == []


async def test_copies_of_media_people_send(server, bot) -> None:
    voice = server.user_sends_voice(USER, duration=7, caption="Səsim")["message"]
    sticker = server.user_sends_sticker(USER, emoji="😢")["message"]
    staff = server.staff_chat_id

    await bot.copy_message(staff, USER, voice["message_id"], caption="<b>Səs</b> yazısı", parse_mode="HTML")
    await bot.copy_message(staff, USER, sticker["message_id"])
    copied_voice, copied_sticker = server.sent(chat_id=staff)
    assert copied_voice.kind == "voice" and copied_voice.data["voice"]["duration"] == 7
    assert copied_voice.text == "Səs yazısı" and copied_voice.entities[0]["type"] == "bold"
    assert copied_sticker.kind == "sticker" and copied_sticker.data["sticker"]["emoji"] == "😢"
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(staff, USER, 99)


async def test_chat_members_chat_info_commands_and_unsimulated_methods(server, bot) -> None:
    staff = server.staff_chat_id
    assert isinstance(await bot.get_chat_member(staff, ADMIN), ChatMemberAdministrator)
    assert isinstance(await bot.get_chat_member(staff, COUNSELLOR), ChatMemberMember)
    assert isinstance(await bot.get_chat_member(staff, 999), ChatMemberLeft)
    me = await bot.get_chat_member(staff, server.bot_user.id)
    assert isinstance(me, ChatMemberAdministrator) and me.can_manage_topics
    server.set_member(COUNSELLOR, "left")
    assert isinstance(await bot.get_chat_member(staff, COUNSELLOR), ChatMemberLeft)

    chat = await bot.get_chat(staff)
    assert chat.type == "supergroup" and chat.is_forum and chat.title == "Helpline staff"
    assert await bot.set_my_commands([BotCommand(command="start", description="Başla")])
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start!", description="Başla")])
    assert await bot.delete_webhook(drop_pending_updates=True)

    # a real method this server does not simulate: 500, and the fixture fails naming it
    with pytest.raises(TelegramServerError, match="pinChatMessage is not simulated"):
        await bot.pin_chat_message(staff, 1)
    with pytest.raises(AssertionError, match="the fake server failed on pinChatMessage"):
        server.assert_no_violations()
    server.internal_errors.clear()
    server.violations.clear()


async def test_blocked_user_and_unknown_chat(server, bot) -> None:
    server.user_sends_text(USER, "salam")
    update = server.user_blocks_bot(USER)
    assert update["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    with pytest.raises(TelegramForbiddenError, match="blocked by the user"):
        await bot.send_message(USER, "salam")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(777, "salam")
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(COUNSELLOR, "salam")  # staff never opened a private chat with the bot
    start = server.user_sends_text(USER, "/start")  # writing again unblocks (after a my_chat_member update)
    assert not server.users[USER].blocked
    await bot.send_message(
        USER, "Xoş gəldin", reply_parameters=ReplyParameters(message_id=start["message"]["message_id"])
    )
    assert server.sent()[-1].data["reply_to_message"]["text"] == "/start"


async def test_flood_limits_with_a_controlled_clock() -> None:
    now = [1000.0]
    async with BotAPIServer(enforce_limits=True, clock=lambda: now[0]) as server:
        bot = server.make_bot()
        try:
            server.add_user(USER)
            for i in range(3):  # a short burst is allowed
                await bot.send_message(USER, f"m{i}")
            with pytest.raises(TelegramRetryAfter) as caught:
                await bot.send_message(USER, "m3")
            assert caught.value.retry_after == 1
            now[0] += 1.0
            await bot.send_message(USER, "m3")
            assert server.max_rate_observed[USER] == 3

            for i in range(20):
                await bot.send_message(server.staff_chat_id, f"g{i}")
                now[0] += 0.125  # stays under the overall 30/s
            with pytest.raises(TelegramRetryAfter) as caught:
                await bot.send_message(server.staff_chat_id, "g20")
            assert caught.value.retry_after == 58  # the first of the 20 leaves the window in 57.5 s
            assert server.max_in_window(server.staff_chat_id, window=60.0) == 20

            now[0] += 60
            for user_id in range(1, 11):  # 10 users x 3 = 30 messages in one second overall
                server.add_user(user_id)
                for _ in range(3):
                    await bot.send_message(user_id, "hi")
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(server.add_user(11).id, "hi")
            assert server.max_in_window() == 30
            assert len(server.flood_rejections) == 3
        finally:
            await bot.session.close()


def echo_dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message):
        return message.answer(f"echo: {message.text}")

    @dp.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer("OK")
        await query.message.edit_text(f"pressed {query.data}")

    return dp


async def test_dispatcher_polling_loop_against_the_server(server, bot) -> None:
    dp = echo_dispatcher()
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    try:
        server.user_sends_text(USER, "salam")
        [reply] = await server.wait_for_sent(chat_id=USER, timeout=3)
        assert reply.text == "echo: salam"

        menu = await bot.send_message(USER, "Seç:", reply_markup=keyboard(("Bəli", "yes")))
        server.user_presses(USER, menu.message_id, "yes")
        await server.wait_until_consumed()
        await server.wait_idle()
        assert server.message(USER, menu.message_id).text == "pressed yes"
        assert [(a.data, a.text) for a in server.callback_answers] == [("yes", "OK")]
    finally:
        await dp.stop_polling()
        await polling
    assert server.violations == []


async def test_webhook_delivery_and_driver(server, bot) -> None:
    dp = echo_dispatcher()
    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token="s3cret").register(app, path="/hook")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        update = server.user_sends_text(USER, "salam")
        assert (await server.post_update_to(url, update, secret_token="wrong")).status == 401
        delivery = await server.post_update_to(url, update, secret_token="s3cret")
        assert delivery.status == 200 and server.pending_updates == []
        [reply] = await server.wait_for_sent(chat_id=USER)
        assert reply.text == "echo: salam"

        assert await bot.set_webhook(url, secret_token="s3cret")
        assert server.webhook is not None and server.webhook["url"] == url
        with pytest.raises(TelegramConflictError):
            await bot.get_updates()
        server.user_sends_text(USER, "ikinci")
        [reply] = await server.wait_for_sent(chat_id=USER)
        assert reply.text == "echo: ikinci"
        await server.wait_until_consumed()
        status, _ = await raw_call(server, "setWebhook", url="")  # an empty url removes the webhook
        assert status == 200 and server.webhook is None
        assert await bot.get_updates(timeout=0) == []
    finally:
        await runner.cleanup()


async def test_every_answer_and_update_conforms_to_the_spec(server, bot) -> None:
    spec = server.spec
    topic = await bot.create_forum_topic(server.staff_chat_id, "Case")
    updates = [
        server.user_sends_text(USER, "/start"),
        server.user_sends_photo(USER, caption="şəkil"),
        server.user_sends_voice(USER),
        server.user_sends_sticker(USER),
        server.staff_sends_text(ADMIN, "cavab", thread_id=topic.message_thread_id),
    ]
    menu = await bot.send_message(USER, "<i>Seç</i>", parse_mode="HTML", reply_markup=keyboard(("A", "a")))
    await bot.copy_message(server.staff_chat_id, USER, 2, message_thread_id=topic.message_thread_id)
    await bot.copy_message(server.staff_chat_id, USER, 1)
    await bot.edit_message_text("<b>Seçildi</b>", chat_id=USER, message_id=menu.message_id, parse_mode="HTML")
    await bot.get_chat(USER)
    await bot.get_chat(server.staff_chat_id)
    await bot.get_chat_member(server.staff_chat_id, ADMIN)
    await bot.get_chat_member(USER, USER)
    updates += [
        server.user_presses(USER, menu.message_id, "a", strict=False),
        server.staff_presses(ADMIN, menu.message_id, "a", strict=False),
        server.user_blocks_bot(USER),
    ]
    assert len(await bot.get_updates(timeout=0)) == len(updates)
    for update in updates:
        assert spec.check_value(update, ["Update"], "update") == [], update
    newer = {name for fields in NEWER_API_FIELDS.values() for name in fields}
    for call in server.calls:
        assert call.ok, call
        result = without_keys(call.result, newer)
        assert spec.check_value(result, spec.returns[call.method], call.method) == [], call


def without_keys(value: object, keys: set[str]) -> object:
    """``value`` without the fields a newer Bot API adds (the spec at hand does not know them)."""
    if isinstance(value, dict):
        return {k: without_keys(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [without_keys(v, keys) for v in value]
    return value


def test_formatting_offsets_are_utf16_and_errors_match_telegram() -> None:
    rendered = render("😀 <b>Bold</b> <a href='tg://user?id=5'>sən</a> &lt;3", "HTML")
    assert rendered.text == "😀 Bold sən <3"
    bold, mention = rendered.entities
    assert (bold["type"], bold["offset"], bold["length"]) == ("bold", 3, 4)  # the emoji is 2 UTF-16 units
    assert mention["type"] == "text_mention" and mention["user"]["id"] == 5

    nested = render(
        "<pre><code class='language-python'>x = 1</code></pre> <tg-spoiler>sirr</tg-spoiler>", "HTML"
    )
    assert nested.text == "x = 1 sirr"
    assert nested.entities == [
        {"offset": 0, "length": 5, "type": "pre", "language": "python"},
        {"offset": 6, "length": 4, "type": "spoiler"},
    ]

    for text, message in [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
    ]:
        with pytest.raises(EntityParseError, match=message):
            render(text, "HTML")
    for mode in ("MarkdownV2", "Markdown"):  # not simulated: the bot uses HTML only
        with pytest.raises(ValueError, match="unsupported parse_mode"):
            render("*bold*", mode)
    assert render("  salam  ").text == "salam"
    assert render("<b>x</b>", None).text == "<b>x</b>"
