"""A local Graph API (Messenger Platform) server for tests: see server.py."""

from tests.graphapi.server import (
    APP_SECRET,
    IG_ID,
    PAGE_ID,
    PAGE_TOKEN,
    VERIFY_TOKEN,
    GraphAPIServer,
    Sent,
    sign,
)

__all__ = ["APP_SECRET", "IG_ID", "PAGE_ID", "PAGE_TOKEN", "VERIFY_TOKEN", "GraphAPIServer", "Sent", "sign"]
