"""The website's live chat: an embeddable widget and a WebSocket on the bot's own HTTP server.

``WebchatChannel(app)`` serves ``/chat/`` (the standalone page), ``/chat/widget.js`` (one script tag
adds a chat button and panel to any page) and ``/chat/ws`` (the JSON protocol in ``protocol``); the
sender (``delivery``) delivers the outbox to open sockets. ``WEBCHAT_ALLOWED_ORIGINS`` turns it on.
"""

from bot.channels.webchat.channel import WebchatChannel, WebchatOptions
from bot.channels.webchat.delivery import CHANNEL

__all__ = ["CHANNEL", "WebchatChannel", "WebchatOptions"]
