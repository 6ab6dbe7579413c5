"""rules/proxies.py: the client address behind trusted proxies, and the list that names them."""

import pytest

from rules.addresses import parse_networks
from rules.proxies import client_address

PROXIES = parse_networks("10.0.0.0/8, 127.0.0.1, fd00::/8")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # No proxy trusted, or a peer that is not one: the peer, whatever it forwards.
        ("192.0.2.1", ["203.0.113.9"], "192.0.2.1"),
        ("::ffff:192.0.2.1", ["203.0.113.9"], "192.0.2.1"),
        # A trusted proxy: the first address from the right that is not a proxy.
        ("127.0.0.1", ["203.0.113.9"], "203.0.113.9"),
        ("127.0.0.1", ["198.51.100.1, 203.0.113.9, 10.0.0.2"], "203.0.113.9"),
        ("127.0.0.1", ["198.51.100.1", "203.0.113.9, 10.0.0.2"], "203.0.113.9"),
        ("::ffff:127.0.0.1", ["203.0.113.9"], "203.0.113.9"),
        ("fd00::1", ["2001:db8::1"], "2001:db8::1"),
        ("127.0.0.1", ["[2001:DB8::1]:443"], "2001:db8::1"),
        ("127.0.0.1", ["203.0.113.9:5000"], "203.0.113.9"),
        # Nothing forwarded: the proxy itself.
        ("127.0.0.1", [], "127.0.0.1"),
        ("127.0.0.1", [" , "], "127.0.0.1"),
        # Only proxies: the first of them.
        ("127.0.0.1", ["10.0.0.3, 10.0.0.2"], "10.0.0.3"),
        # What a proxy passed on as it was, not an address: as it is.
        ("127.0.0.1", ["unknown"], "unknown"),
        (None, ["203.0.113.9"], None),
    ],
)
def test_client_address(peer: str | None, forwarded_for: list[str], client: str | None) -> None:
    assert client_address(peer, forwarded_for, PROXIES) == client


def test_nothing_trusted_by_default() -> None:
    assert client_address("127.0.0.1", ["203.0.113.9"], parse_networks("")) == ("127.0.0.1")


def test_applied_twice_the_same_address() -> None:
    once = client_address("127.0.0.1", ["10.0.0.3, 10.0.0.2"], PROXIES)
    assert client_address(once, ["10.0.0.3, 10.0.0.2"], PROXIES) == once


def test_the_list() -> None:
    assert [str(n) for n in parse_networks(" 10.0.0.1,10.1.2.3/8  ::1 ,")] == [
        "10.0.0.1/32",
        "10.0.0.0/8",
        "::1/128",
    ]
    with pytest.raises(ValueError, match="'proxy.internal' is not an IP address or network"):
        parse_networks("proxy.internal")
