"""The widget's files: ``/chat/`` (the standalone page), ``/chat/widget.js`` and ``/chat/widget.css``.

The files in ``static/`` are plain JavaScript, CSS and HTML (no build step). Every word the widget
shows comes from content (``webchat.ui.*`` in ``bot/content/strings/webchat.<lang>.yaml``) and is
put into ``widget.js`` when it is served, with the limits the server enforces.
"""

from __future__ import annotations

import hashlib
import html
import json
from pathlib import Path

from aiohttp import web

from bot.config import Settings
from bot.domain import DEFAULT_LANGUAGE, LANGUAGES
from bot.texts import Content

STATIC = Path(__file__).resolve().parent / "static"
PREFIX = "webchat.ui."
CONFIG_MARK = "/*@CONFIG@*/ null"
COMMON = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def widget_strings(content: Content) -> dict[str, dict[str, str]]:
    return {
        lang: {
            key[len(PREFIX) :]: value
            for key, value in content.strings[lang].items()
            if key.startswith(PREFIX)
        }
        for lang in LANGUAGES
    }


class Pages:
    def __init__(self, content: Content, settings: Settings) -> None:
        self.content = content
        self.origins = settings.webchat_allowed_origins
        config = {
            "strings": widget_strings(content),
            "languages": list(LANGUAGES),
            "defaultLanguage": DEFAULT_LANGUAGE,
            "maxChars": settings.webchat_max_chars,
        }
        script = (STATIC / "widget.js").read_text(encoding="utf-8")
        if CONFIG_MARK not in script:
            raise RuntimeError("widget.js has lost its configuration mark")
        blob = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
        self.script_body = script.replace(CONFIG_MARK, blob, 1).encode()
        self.style_body = (STATIC / "widget.css").read_bytes()
        self.page_template = (STATIC / "chat.html").read_text(encoding="utf-8")
        self.etags = {
            "script": '"' + hashlib.sha256(self.script_body).hexdigest()[:20] + '"',
            "style": '"' + hashlib.sha256(self.style_body).hexdigest()[:20] + '"',
        }

    async def redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(
            "/chat/" + (f"?{request.query_string}" if request.query_string else "")
        )

    async def page(self, request: web.Request) -> web.Response:
        lang = request.query.get("lang", "")
        lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        t = self.content.t
        body = (
            self.page_template.replace("__LANG__", lang)
            .replace("__TITLE__", html.escape(t("webchat.ui.title", lang)))
            .replace("__NOSCRIPT__", html.escape(t("webchat.ui.noscript", lang)))
        )
        host = request.host
        ancestors = " ".join(["'self'", *self.origins])
        csp = (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' ws://{host} wss://{host}; base-uri 'none'; form-action 'none'; "
            f"frame-ancestors {ancestors}"
        )
        headers = {**COMMON, "Content-Security-Policy": csp, "Cache-Control": "no-store"}
        return web.Response(text=body, content_type="text/html", charset="utf-8", headers=headers)

    def _static(self, request: web.Request, body: bytes, etag: str, content_type: str) -> web.Response:
        headers = {
            **COMMON,
            "Cache-Control": "public, max-age=300",
            "ETag": etag,
            "Cross-Origin-Resource-Policy": "cross-origin",
        }
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, content_type=content_type, charset="utf-8", headers=headers)

    async def script(self, request: web.Request) -> web.Response:
        return self._static(request, self.script_body, self.etags["script"], "text/javascript")

    async def style(self, request: web.Request) -> web.Response:
        return self._static(request, self.style_body, self.etags["style"], "text/css")
