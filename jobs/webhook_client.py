"""One webhook attempt over HTTP: the host resolved and checked (jobs/addresses.py), the POST
sent to a checked address, at most 64 KiB of the answer read, all within one deadline; what
came of it as a status code or a coarse category (rules/webhooks.py), never a library's text.

The client connects only where the attempt checked: its network backend takes the addresses
from the attempt (a context variable), so there is no second look-up between the check and the
connection (DNS rebinding), and the URL keeps its host name, for `Host`, for TLS's server name
and certificate, and for the pool, whose connections are per host name."""

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import cast

import httpcore
import httpx

from jobs.addresses import AddressPolicy, RefusedAddress, Unresolved, checked_addresses
from rules import webhooks as rules
from rules.addresses import IPAddress

# Read of an answer, at most: nothing of it is kept (the status says it all), but a short one is
# read to its end so that its connection serves the next request. A longer one is cut off, with
# its connection: a receiver answering 100 MB had the worker read them all into memory.
ANSWER_READ_LIMIT = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}

# The host this attempt checked and its addresses; set around the request only.
_CHECKED: ContextVar[tuple[str, tuple[IPAddress, ...]] | None] = ContextVar(
    "webhook_checked_addresses", default=None
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What came of one attempt: the receiver's status, or why there is none. `refused`: the
    address is not allowed, and will not be by retrying."""

    code: int | None
    error: str | None
    refused: bool = False


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """Opens connections to the addresses the attempt checked for the host, and nowhere else."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        checked = _CHECKED.get()
        if checked is None or checked[0] != host:
            # Fails closed: nothing checked this host for this attempt.
            raise httpcore.ConnectError(f"{host} was not checked for this attempt")
        failure: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in checked[1]:
            try:
                return await self.inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                failure = e
        raise failure

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def delivery_client(max_connections: int, timeout: float) -> httpx.AsyncClient:
    """The worker's client: connections only to checked addresses, no redirect followed, no
    proxy from the environment (a proxy would resolve the host itself, unchecked)."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    # httpx takes no network backend of its own: its pool is replaced by httpcore's, with ours
    # (httpx is held below 0.30 in pyproject; tests/test_webhook_addresses.py sends through it).
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=max_connections,
        network_backend=_CheckedBackend(),
    )
    return httpx.AsyncClient(
        transport=transport, timeout=timeout, follow_redirects=False, trust_env=False
    )


async def post(
    client: httpx.AsyncClient,
    policy: AddressPolicy,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    deadline: float,
) -> Outcome:
    """POSTs `body` to `url` within `deadline` seconds, all told: look-up, connection, sending
    and reading (a receiver answering a byte a second no longer holds an attempt for minutes)."""
    try:
        async with asyncio.timeout(deadline):
            return await _post(client, policy, url, body, headers)
    except (TimeoutError, httpx.TimeoutException):
        return Outcome(None, rules.TIMEOUT)
    except RefusedAddress:
        return Outcome(None, rules.REFUSED_ADDRESS, refused=True)
    except (httpx.HTTPError, httpx.InvalidURL, Unresolved, OSError):
        return Outcome(None, rules.CONNECTION_FAILED)


async def _post(
    client: httpx.AsyncClient,
    policy: AddressPolicy,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
) -> Outcome:
    target = httpx.URL(url)
    host = target.raw_host.decode("ascii")
    port = target.port or DEFAULT_PORTS.get(target.scheme, 80)
    addresses = await checked_addresses(host, port, policy)
    with _checked(host, addresses):
        async with client.stream("POST", target, content=body, headers=headers) as response:
            await _read_some(response)
    code = response.status_code
    return Outcome(code, None if 200 <= code < 300 else rules.http_status_error(code))


@contextlib.contextmanager
def _checked(host: str, addresses: list[IPAddress]) -> Iterator[None]:
    token = _CHECKED.set((host, tuple(addresses)))
    try:
        yield
    finally:
        _CHECKED.reset(token)


async def _read_some(response: httpx.Response) -> None:
    """Reads the answer as it came (not decompressed: a small compressed body can unpack to
    gigabytes) until its end or ANSWER_READ_LIMIT bytes, and keeps none of it."""
    read = 0
    # An async generator (typed as an iterator): closed here when left early, not by the
    # garbage collector.
    raw = cast(AsyncGenerator[bytes, None], response.aiter_raw())
    async with contextlib.aclosing(raw) as chunks:
        async for chunk in chunks:
            read += len(chunk)
            if read >= ANSWER_READ_LIMIT:
                return
