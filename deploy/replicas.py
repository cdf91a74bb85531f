"""Several bot replicas on one PostgreSQL behind a local proxy, as processes on this machine: the
process-level twin of docker-compose.yml (which needs a Docker engine). Used by the tests of running
replicas, and for a trial run:

    python deploy/replicas.py --replicas 2 --listen 127.0.0.1:8443

Every replica is ``python -m bot run`` with the settings of this environment (``.env``), its own
``HTTP_LISTEN`` port, and ``TELEGRAM_WEBHOOK_URL`` pointing at the proxy (webhook mode: every replica
takes updates; one of them sends, runs the reminders and housekeeping, and another takes over if it
dies). ``DATABASE_URL`` must be PostgreSQL: SQLite is for one process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from localproxy import LocalProxy

ROOT = Path(__file__).resolve().parents[1]
WEBHOOK_PATH = "/telegram/webhook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def start_replica(env: Mapping[str, str], port: int, data_dir: Path) -> asyncio.subprocess.Process:
    """``python -m bot run`` on ``HTTP_LISTEN=127.0.0.1:port``; returns once /healthz answers."""
    import aiohttp

    data_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240  (once, before the process starts)
    child_env = {**os.environ, **env, "HTTP_LISTEN": f"127.0.0.1:{port}", "DATA_DIR": str(data_dir)}
    child_env["PYTHONPATH"] = str(ROOT) + os.pathsep + child_env.get("PYTHONPATH", "")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=str(ROOT), env=child_env,
        stdout=asyncio.subprocess.DEVNULL, stderr=open(data_dir / "bot.log", "ab"),  # noqa: ASYNC230
    )  # fmt: skip
    async with aiohttp.ClientSession() as client:
        for _ in range(1200):
            if proc.returncode is not None:
                raise RuntimeError(
                    f"replica on port {port} exited with {proc.returncode}; see {data_dir}/bot.log"
                )
            try:
                async with client.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status in (200, 503):
                        return proc
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"replica on port {port} did not start")


async def run(replicas: int, listen: str, base: Path) -> None:
    host, _, port = listen.rpartition(":")
    ports = [free_port() for _ in range(replicas)]
    proxy = LocalProxy([f"127.0.0.1:{p}" for p in ports])
    await proxy.start(host, int(port))
    env = {
        "TELEGRAM_WEBHOOK_URL": os.environ.get(
            "TELEGRAM_WEBHOOK_URL", f"http://{host}:{proxy.port}{WEBHOOK_PATH}"
        )
    }
    procs = await asyncio.gather(*(start_replica(env, p, base / f"replica-{i}") for i, p in enumerate(ports)))
    print(f"{replicas} replicas on ports {ports} behind {host}:{proxy.port}", flush=True)
    try:
        await asyncio.gather(*(p.wait() for p in procs))
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
        await proxy.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--listen", default="127.0.0.1:8443", help="where the proxy listens")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "replicas")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql")):
        sys.exit("replicas: DATABASE_URL must be a PostgreSQL URL (SQLite is for one process)")
    asyncio.run(run(args.replicas, args.listen, args.data))


if __name__ == "__main__":
    main()
