"""Shared fixtures: real databases (SQLite and PostgreSQL), the real triager and content.

PostgreSQL: the tests use ``TEST_POSTGRES_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres)
to create one throwaway database per test session. Without a server the PostgreSQL half is skipped
with a reason; with ``CI`` set it fails instead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import App, build_app
from bot.config import Settings
from bot.storage.db import make_engine, upgrade
from bot.texts import Content, load_content

# The Telegram channel's fixtures (tg, tg_content, tg_triager, tg_pg_url) for every test module.
pytest_plugins = ["tests.telegram_fixtures"]

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "test-pseudonym-secret-0123456789"
TABLES = (
    "outbox",
    "inbox",
    "telegram_links",
    "telegram_cases",
    "article_ratings",
    "triage_labels",
    "audit_log",
    "messages",
    "cases",
    "conversations",
    "people",
)


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def run_in_thread(coro_factory):
    """Run a coroutine to completion on a private event loop (safe inside or outside a loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coro_factory())).result()


async def create_pg_database(prefix: str) -> tuple[str, str]:
    """Create and migrate a throwaway PostgreSQL database; returns (name, async URL).

    Skips the test with a reason when no server is reachable, fails instead when CI is set."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # connection refused, auth, timeout
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(
            f"PostgreSQL not reachable at {PG_ADMIN_URL} ({type(exc).__name__}); set TEST_POSTGRES_URL"
        )
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    return name, url


async def drop_pg_database(name: str) -> None:
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session (its async URL)."""
    name, url = run_in_thread(lambda: create_pg_database("helpline_test"))
    yield url
    run_in_thread(lambda: drop_pg_database(name))


async def _truncate_pg(url: str) -> None:
    from sqlalchemy import text

    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}"
    url = request.getfixturevalue("pg_database")
    run_in_thread(lambda: _truncate_pg(url))
    return url


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "pseudonym_secret": SECRET,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content()


@pytest.fixture(scope="session")
def triage_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("triage-cache")


@pytest.fixture(scope="session")
def triager(triage_cache: Path):
    from bot.triage import load_triager

    return load_triager(triage_cache)


@pytest_asyncio.fixture
async def app(database_url: str, tmp_path: Path, content: Content, triager) -> AsyncIterator[App]:
    application = await build_app(make_settings(database_url, tmp_path), content=content, triager=triager)
    yield application
    await application.close()


@pytest_asyncio.fixture
async def sqlite_app(tmp_path: Path, content: Content, triager) -> AsyncIterator[App]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}"
    application = await build_app(make_settings(url, tmp_path), content=content, triager=triager)
    yield application
    await application.close()


__all__ = ["ROOT", "SECRET", "make_settings", "upgrade"]
