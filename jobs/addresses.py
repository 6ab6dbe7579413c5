"""The addresses a webhook may be sent to now: its host resolved once, every address checked
(rules/addresses.py). The API checks a URL when it is registered, the worker at every attempt,
and connects only to what it checked (jobs/webhook_client.py)."""

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from ipaddress import ip_address

from rules import addresses as rules
from rules.addresses import IPAddress, Network

# (host, port) -> the addresses it stands for. Injected, so that tests map names to any address
# without asking DNS, and never connect anywhere but loopback.
Resolve = Callable[[str, int], Awaitable[list[IPAddress]]]


async def system_resolve(host: str, port: int) -> list[IPAddress]:
    """The system's resolver (getaddrinfo, in its thread pool: it blocks)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        # A link-local IPv6 address comes with its interface (`fe80::1%eth0`): refused anyway.
        address = ip_address(str(sockaddr[0]).partition("%")[0])
        if address not in found:
            found.append(address)
    return found


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Networks the operator allows besides public addresses (ROSTER_WEBHOOK_ALLOWED_NETWORKS),
    and how host names are resolved."""

    allowed: tuple[Network, ...] = ()
    resolve: Resolve = system_resolve

    async def refusal(self, host: str, port: int) -> str | None:
        """Why `host` may not receive webhooks, or None: its addresses are allowed, or it has
        none yet (each attempt checks again). For the API, which reaches this module only
        through the settings, when it checks a URL."""
        try:
            await checked_addresses(host, port, self)
        except RefusedAddress as e:
            return str(e)
        except Unresolved:
            return None
        return None


class RefusedAddress(Exception):
    """The host is, or resolves to, an address webhooks may not go to."""

    def __init__(self, host: str, address: IPAddress | None, kind: str) -> None:
        self.host = host
        self.address = address
        self.kind = kind
        where = host if address is None or str(address) == host else f"{host} ({address})"
        article = "an" if kind[0] in "aeiou" else "a"
        super().__init__(
            f"{where} is {article} {kind} address: webhooks go to public addresses only."
        )


class Unresolved(Exception):
    """The host name resolves to nothing, now."""


async def checked_addresses(host: str, port: int, policy: AddressPolicy) -> list[IPAddress]:
    """Every address `host` stands for, each allowed; raises RefusedAddress when any is not
    (a name with one private address among public ones is refused: which one a connection
    gets is not Roster's choice), Unresolved when there are none."""
    try:
        literal = rules.literal_address(host)
    except rules.HostProblem:
        raise RefusedAddress(host, None, "local") from None
    if literal is not None:
        found = [literal]
    elif rules.is_localhost_name(host):
        found = [rules.LOCALHOST]
    else:
        try:
            found = await policy.resolve(rules.normal_host(host), port)
        except (OSError, UnicodeError) as e:  # socket.gaierror is an OSError
            raise Unresolved(host) from e
        if not found:
            raise Unresolved(host)
    for address in found:
        kind = rules.refusal(address, policy.allowed)
        if kind is not None:
            raise RefusedAddress(host, address, kind)
    return found
