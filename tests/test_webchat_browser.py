"""The web chat in a real browser: Debian's headless Chromium (/usr/bin/chromium) driven by
Playwright, nothing downloaded. The standalone page on a phone-sized screen (type, press a button,
see the answers), on a desktop-sized screen with a counsellor (the "joined" line and their marked
messages, the conversation kept across a reload, "Leave quickly"), and the one-line embed on
another site (keyboard only), refused on a site that is not allowed.

The run takes two screenshots; with WEBCHAT_SCREENSHOTS=docs it writes them over docs/webchat-phone.png
and docs/webchat-desktop.png (shown in the README), otherwise into a temporary folder.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.texts import Content
from tests.conftest import ROOT
from tests.webchat_fixtures import COUNSELLOR, Chat, running_chat

CHROMIUM = os.environ.get("WEBCHAT_TEST_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / os.environ["WEBCHAT_SCREENSHOTS"] if os.environ.get("WEBCHAT_SCREENSHOTS") else None
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
LEAVE_TO = "https://www.google.com/"
TIMEOUT = 15_000


def playwright_or_skip() -> Any:
    """Playwright and Chromium, or a skip with the reason (a failure in CI)."""
    problem = None
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        problem = 'Playwright is not installed (make test installs it: pip install -e ".[dev]")'
    if problem is None and not Path(CHROMIUM).exists():
        problem = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test must run in CI: {problem}")
        pytest.skip(problem)
    return async_playwright


@asynccontextmanager
async def chromium(**context: Any) -> AsyncIterator[Any]:
    """A fresh headless Chromium with a new, empty profile (user-data dir); every request to a site
    outside this machine is answered here, so nothing leaves the machine."""
    async_playwright = playwright_or_skip()
    with tempfile.TemporaryDirectory(prefix="webchat-chromium-") as profile:
        async with async_playwright() as p:
            browser = await p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=ARGS, **context
            )

            async def outside(route: Any) -> None:  # "Leave quickly" goes to another site
                await route.fulfill(status=200, content_type="text/html", body="<title>elsewhere</title>")

            await browser.route("https://**/*", outside)
            try:
                yield browser
            finally:
                await browser.close()


async def new_page(browser: Any) -> Any:
    page = await browser.new_page()
    page.set_default_timeout(TIMEOUT)
    return page


@asynccontextmanager
async def host_site(script: str) -> AsyncIterator[str]:
    """Another website that embeds the chat with one line."""

    async def index(_: web.Request) -> web.Response:
        body = (
            "<!doctype html><html lang='az'><head><title>Sayt</title></head>"
            f"<body><main><h1>Sayt</h1></main>{script}</body></html>"
        )
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", index)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def browser_chat(
    tmp_path: Path, content: Content, triager: Any, origins: tuple[str, ...] = ()
) -> AsyncIterator[Chat]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}"
    allowed = ("https://www.example.org", *origins)
    async with running_chat(url, tmp_path, content, triager, webchat_allowed_origins=allowed) as chat:
        yield chat


def bot_messages(page: Any) -> Any:
    return page.locator("li.msg.bot")


async def test_the_chat_page_on_a_phone(tmp_path: Path, content: Content, triager: Any) -> None:
    phone = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}
    async with browser_chat(tmp_path, content, triager) as chat, chromium(**phone, has_touch=True) as browser:
        page = await new_page(browser)
        await page.goto(f"{chat.base}/chat/")
        t = content.t
        await page.get_by_role("heading", name=t("webchat.ui.title", "az")).wait_for()
        welcome = bot_messages(page).first
        await welcome.wait_for()
        assert await welcome.locator(".text").inner_text() == t("welcome.intro", "az")
        # screen readers hear who wrote each message
        assert await welcome.locator(".sr-only").inner_text() == t("webchat.ui.from_bot", "az") + ":"
        # the 112 / 116111 line, with numbers that can be tapped
        emergency = page.locator("p.emergency")
        assert await emergency.get_by_role("link", name="112").get_attribute("href") == "tel:112"
        assert await emergency.get_by_role("link", name="116111").get_attribute("href") == "tel:116111"
        assert await page.get_by_role("button", name=t("webchat.ui.leave_label", "az")).is_visible()

        # type and send with Enter
        box = page.get_by_role("textbox", name=t("webchat.ui.input_label", "az"))
        await box.click()
        await page.keyboard.type("Məktəbdə imtahandan çox qorxuram")
        await page.keyboard.press("Enter")
        await page.locator("li.msg.mine", has_text="imtahandan çox qorxuram").wait_for()
        await page.locator("li.msg.mine .state").first.wait_for(state="detached")  # acknowledged
        await bot_messages(page).nth(1).wait_for()  # the answer
        assert await box.input_value() == ""

        # press a button the bot offered: it is a real button
        choice = page.locator("li.msg.bot button.choice", has_text=t("lang.ru", "az")).first
        assert await choice.evaluate("b => b.tagName") == "BUTTON"
        await choice.click()
        answer = page.locator("li.msg.bot", has_text=t("lang.set", "ru"))
        await answer.wait_for()
        await page.wait_for_timeout(400)
        # readable on a phone: nothing wider than the screen, text at least 16 px
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        size = await box.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 16
        (SHOTS or tmp_path).mkdir(exist_ok=True)
        await page.screenshot(path=str((SHOTS or tmp_path) / "webchat-phone.png"))


async def test_the_chat_page_on_a_desktop_with_a_counsellor(
    tmp_path: Path, content: Content, triager: Any
) -> None:
    t = content.t
    desktop = {"viewport": {"width": 1280, "height": 800}}
    async with browser_chat(tmp_path, content, triager) as chat, chromium(**desktop) as browser:
        app = chat.app
        page = await new_page(browser)
        await page.goto(f"{chat.base}/chat/")
        await bot_messages(page).first.wait_for()
        token = await page.evaluate("localStorage.getItem('helpline-chat:session')")
        assert token

        await page.locator("button.choice", has_text=t("btn.talk_to_counsellor", "az")).first.click()
        await page.locator("li.msg.mine", has_text=t("btn.talk_to_counsellor", "az")).wait_for()
        for _ in range(100):
            queue = await app.desk.queue()
            if queue:
                break
            await page.wait_for_timeout(100)
        case = queue[0]
        assert case.channel == "webchat"
        await app.desk.claim(case.id, COUNSELLOR)
        banner = page.locator("p.counsellor")
        await banner.wait_for()
        assert await banner.inner_text() == t("webchat.ui.counsellor_joined", "az")
        await app.desk.reply(case.id, COUNSELLOR, "Salam, mən məsləhətçiyəm. Nə baş verib?")
        relay = page.locator("li.msg.relay")
        await relay.wait_for()
        # marked as the counsellor's, under the neutral name (never theirs)
        said = "Salam, mən məsləhətçiyəm. Nə baş verib?"
        assert await relay.locator(".text").inner_text() == t("relay.prefix", "az", text=said)
        box = page.get_by_role("textbox", name=t("webchat.ui.input_label", "az"))
        await box.fill("Sinifdə məni ələ salırlar, məktəbə getmək istəmirəm")
        await page.get_by_role("button", name=t("webchat.ui.send_label", "az")).click()
        await page.locator("li.msg.mine", has_text="məktəbə getmək istəmirəm").wait_for()
        await page.locator("li.msg.mine .state").first.wait_for(state="detached")
        await page.wait_for_timeout(300)
        await page.screenshot(path=str((SHOTS or tmp_path) / "webchat-desktop.png"))

        # a reload keeps the conversation (this tab) and the session; a message sent meanwhile arrives
        await page.reload()
        await page.locator("li.msg.relay").first.wait_for()
        await app.desk.reply(case.id, COUNSELLOR, "Anladım. Bu barədə kimə danışmısan?")
        await page.locator("li.msg.relay", has_text="kimə danışmısan").wait_for()
        assert await page.locator("li.msg.relay").count() == 2
        assert await page.evaluate("localStorage.getItem('helpline-chat:session')") == token
        assert await bot_messages(page).filter(has_text=t("welcome.intro", "az")[:30]).count() == 1

        # "Leave quickly": away from the page, and nothing of the chat is left in the browser
        await page.get_by_role("button", name=t("webchat.ui.leave_label", "az")).click()
        await page.wait_for_url(LEAVE_TO)
        await page.goto(f"{chat.base}/chat/")
        await bot_messages(page).first.wait_for()
        assert await page.locator("li.msg.relay").count() == 0
        fresh = await page.evaluate("localStorage.getItem('helpline-chat:session')")
        assert fresh and fresh != token


async def test_the_one_line_embed_works_by_keyboard_and_only_on_allowed_sites(
    tmp_path: Path, content: Content, triager: Any
) -> None:
    t = content.t
    async with browser_chat(tmp_path, content, triager) as chat:
        tag = f'<script src="{chat.base}/chat/widget.js" async></script>'
        async with host_site(tag) as allowed, host_site(tag) as other:
            chat.channel.allowed.add(allowed)
            async with chromium(viewport={"width": 1024, "height": 768}) as browser:
                page = await new_page(browser)
                await page.goto(allowed + "/")
                launcher = page.get_by_role("button", name=t("webchat.ui.open_label", "az"))
                await launcher.wait_for()
                await page.locator("h1").click()  # the page has the focus; the keyboard from here on
                await page.keyboard.press("Tab")
                assert await launcher.evaluate("b => b.getRootNode().activeElement === b")
                outline = await launcher.evaluate("b => getComputedStyle(b).outlineStyle")
                assert outline not in ("none", "")  # the focus is visible
                await page.keyboard.press("Enter")
                assert await launcher.get_attribute("aria-expanded") == "true"
                await bot_messages(page).first.wait_for()
                box = page.get_by_role("textbox", name=t("webchat.ui.input_label", "az"))
                assert await box.evaluate("e => e.getRootNode().activeElement === e")
                await page.keyboard.type("Salam")
                await page.keyboard.press("Enter")
                await page.locator("li.msg.mine", has_text="Salam").wait_for()
                await page.keyboard.press("Escape")
                assert await launcher.get_attribute("aria-expanded") == "false"
                assert await launcher.evaluate("b => b.getRootNode().activeElement === b")
                # the site's page itself is untouched by the widget's styles
                assert await page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily") != ""

                refused = await new_page(browser)
                await refused.goto(other + "/")
                await refused.get_by_role("button", name=t("webchat.ui.open_label", "az")).click()
                status = refused.locator("p.status")
                await status.wait_for()
                await refused.wait_for_timeout(1500)
                assert await bot_messages(refused).count() == 0
                assert await refused.evaluate("localStorage.getItem('helpline-chat:session')") is None
