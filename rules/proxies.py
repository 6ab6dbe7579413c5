"""Which address a request comes from when reverse proxies stand in front of Roster.

`X-Forwarded-For` is written by whoever sends the request, so it is believed only when the peer
(the address the connection comes from) is one of the trusted proxies (ROSTER_TRUSTED_PROXIES).
Each proxy appends the address it received the request from, so the header is read from the
right, past the trusted proxies, and the first address that is not one of them is the client's:
what a client wrote itself stays on the left, never read. This is the rule uvicorn applies
(`forwarded_allow_ips`); `roster serve` hands it the same list, and the app applies the rule
again itself, so that the address does not depend on how the ASGI server was started (another
server, or uvicorn with its own defaults). Applied twice it gives the same address."""

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address

from rules.addresses import Network


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: tuple[Network, ...]
) -> str | None:
    """The client's address: the peer's, unless the peer is a trusted proxy and
    `forwarded_for` (the X-Forwarded-For headers, in order) names one further out."""
    if peer is None or not _trusted(peer, trusted):
        return _normal(peer)
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    hops = [hop for hop in hops if hop]
    if not hops:
        return _normal(peer)
    for hop in reversed(hops):
        if not _trusted(_host(hop), trusted):
            return _normal(_host(hop))
    # Every hop is a trusted proxy: the client is one of them, the first (as uvicorn says).
    return _normal(_host(hops[0]))


def _trusted(host: str, trusted: tuple[Network, ...]) -> bool:
    address = _address(host)
    return address is not None and any(address in network for network in trusted)


def _address(host: str) -> IPv4Address | IPv6Address | None:
    try:
        address = ip_address(host)
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; the list names them as IPv4.
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _host(hop: str) -> str:
    """The address in a hop, without the port a proxy may add (`1.2.3.4:80`, `[::1]:80`)."""
    if hop.startswith("["):
        end = hop.find("]")
        return hop[1:end] if end > 0 else hop
    if hop.count(":") == 1:
        return hop.split(":", 1)[0]
    return hop


def _normal(host: str | None) -> str | None:
    """One spelling per address (`::FFFF:1.2.3.4` and `1.2.3.4` are one client); anything else
    as it is."""
    if host is None:
        return None
    address = _address(host)
    return str(address) if address is not None else host
