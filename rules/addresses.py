"""Where webhooks may go, without I/O: a URL's host however it is written, and whether an address
is a public one (or in a network the operator allowed).

A webhook URL is chosen by a tenant's administrator, and what its receiver answers is shown back
to anyone with a `read` token: an address inside Roster's own network (loopback, private,
link-local, a cloud's metadata service) would make webhooks a scanner of that network. So only
public addresses are accepted, whatever the spelling: `2130706433`, `0x7f000001`, `127.1` and
`[::ffff:127.0.0.1]` are all 127.0.0.1, as the system's resolver reads them."""

import re
import socket
from collections.abc import Iterable
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_network,
)

IPAddress = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

# Shared address space (RFC 6598): a carrier's NAT, not the internet. Python's is_global knows;
# it is named here for the message.
CGNAT = IPv4Network("100.64.0.0/10")
# NAT64's well-known prefix (RFC 6052): the last 32 bits are an IPv4 address, reached through
# the translator.
NAT64 = IPv6Network("64:ff9b::/96")
# What inet_aton reads as IPv4: decimal, octal or hex parts, one to four of them. Names made of
# these characters that it refuses (`cafe.babe`) are names.
IPV4_CHARACTERS = re.compile(r"[0-9a-fx.]+")
LOCALHOST = IPv4Address("127.0.0.1")


class HostProblem(ValueError):
    """A host that names no address Roster would send to, whatever it resolves to."""


def parse_networks(text: str) -> tuple[Network, ...]:
    """The networks of a list of CIDRs separated by commas or spaces (`127.0.0.0/8,::1/128`; a
    bare address is a network of one). Raises ValueError naming an entry that is not one (a host
    name is not resolved: what it stands for would change under a running server)."""
    networks = []
    for entry in text.replace(",", " ").split():
        try:
            networks.append(ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"{entry!r} is not an IP address or network (e.g. 10.1.2.3, 10.0.0.0/8, ::1/128)"
            ) from None
    return tuple(networks)


def normal_host(host: str) -> str:
    """The host as looked up: lower case, without brackets or the trailing dot of a fully
    qualified name (`LOCALHOST.` is `localhost`)."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host[:-1] if host.endswith(".") and not host.endswith("..") else host


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an address stands for, read as the system's resolver reads
    it (inet_aton: `127.1`, `0177.0.0.1`, `0x7f000001`, `2130706433`); None for a name. Raises
    HostProblem for an IPv6 address with a zone (`fe80::1%eth0`: an interface of this machine)."""
    host = normal_host(host)
    if ":" in host:
        if "%" in host:
            raise HostProblem(f"{host} names a network interface of this machine.")
        try:
            return IPv6Address(host)
        except ValueError:
            raise HostProblem(f"{host} is not an IPv6 address.") from None
    if IPV4_CHARACTERS.fullmatch(host):
        try:
            return IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_localhost_name(host: str) -> bool:
    """`localhost` and every name under it are this machine (RFC 6761), whatever DNS says."""
    host = normal_host(host)
    return host == "localhost" or host.endswith(".localhost")


def embedded_ipv4(address: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 one carries and leads to: mapped (`::ffff:a.b.c.d`), compatible
    (`::a.b.c.d`), 6to4 (`2002:aabb:ccdd::`) or NAT64 (`64:ff9b::a.b.c.d`)."""
    if isinstance(address, IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or (int(address) >> 32 == 0 and int(address) > 1):
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress, allowed: Iterable[Network] = ()) -> str | None:
    """What kind of address this is, when webhooks may not go to it ("loopback", "private", …);
    None for a public address, or one in an allowed network. An IPv6 form of an IPv4 address is
    judged by the IPv4 one."""
    embedded = embedded_ipv4(address)
    judged = embedded or address
    if any(_within(a, allowed) for a in (address, judged)):
        return None
    return _kind(judged)


def _within(address: IPAddress, networks: Iterable[Network]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def _kind(address: IPAddress) -> str | None:
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, IPv4Address) and address in CGNAT:
        return "shared (CGNAT)"
    if address.is_reserved or (isinstance(address, IPv6Address) and address.is_site_local):
        return "reserved"
    if address.is_private or not address.is_global:
        return "private"
    return None
