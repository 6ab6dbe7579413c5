"""scripts/start as a newcomer runs it: nothing printed (no token minted) unless its own server
answers, and one console token, the same at every start until --new-token replaces it."""

import asyncio
import os
import re
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r"Admin token:\s+(rst_\S+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def environment(db_url: str, state: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "ROSTER_STATE_DIR": str(state),
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }


async def active_tokens(db_url: str) -> int:
    conn = await asyncpg.connect(db_url)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL AND kind = 'api'"
        )
        return count
    finally:
        await conn.close()


@pytest.fixture
async def busy_port() -> AsyncIterator[int]:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def test_a_busy_port_fails_clearly_and_mints_no_token(
    db_url: str, tmp_path: Path, busy_port: int
) -> None:
    process = await asyncio.create_subprocess_exec(
        str(ROOT / "scripts" / "start"),
        env=environment(db_url, tmp_path, busy_port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 1
    assert f"port {busy_port} on 127.0.0.1 is in use" in err.decode()
    assert "rst_" not in out.decode() + err.decode()
    assert await active_tokens(db_url) == 0
    assert not (tmp_path / "console-token").exists()


async def start(db_url: str, state: Path, *args: str) -> str:
    """Runs scripts/start until its banner, checks the token against the API, stops it (as
    Ctrl-C does) and returns the token."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        str(ROOT / "scripts" / "start"),
        *args,
        env=environment(db_url, state, port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    assert process.stdout is not None
    try:
        output = ""
        while not (match := TOKEN.search(output)):
            line = await asyncio.wait_for(process.stdout.readline(), timeout=120)
            assert line, f"scripts/start ended without a banner: {output}"
            output += line.decode()
        token = match.group(1)
        # Above the token: a console sign-in link to this server, good once.
        link = re.search(r"Console: +(\S+)", output)
        assert link, output
        assert link.group(1).startswith(f"http://localhost:{port}/console/sign-in#")
        # The banner comes after the server answers: the token works at once.
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"http://127.0.0.1:{port}/graphql",
                json={"query": "{ platforms { key } }"},
                headers={"authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
            signed_in = await http.post(
                f"http://127.0.0.1:{port}/console/session",
                json={"link": link.group(1).partition("#")[2]},
                headers={"origin": f"http://localhost:{port}"},
            )
            assert signed_in.status_code == 201, signed_in.text
        return token
    finally:
        os.killpg(process.pid, signal.SIGINT)
        await asyncio.wait_for(process.wait(), timeout=30)


async def test_one_console_token_reused_until_replaced(db_url: str, tmp_path: Path) -> None:
    first = await start(db_url, tmp_path)
    assert (tmp_path / "console-token").stat().st_mode & 0o077 == 0  # only its owner reads it
    assert await start(db_url, tmp_path) == first
    assert await active_tokens(db_url) == 1
    replaced = await start(db_url, tmp_path, "--new-token")
    assert replaced != first
    assert await active_tokens(db_url) == 1  # the first one is revoked
