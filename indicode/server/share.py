"""Fair share of the service between client addresses: how many connections and requests one address
may hold, which connection gives way when the server is full, and which address a request comes from.

One client must not take the service from the others (a peer keeping hundreds of idle connections
open shut every other client out while the cap was only global). So connections are counted per
address as well as in total: a new connection from an address at its share closes that address's
longest-idle connection (or is refused when none of its connections is idle); a new connection
when the server is full closes the longest-idle connection of the address holding the most. Idle
means no request under way (waiting for a first request, between kept-alive requests, or with only
part of a request head sent). A connection let go this way is not closed at once: it stops being
read and is closed after `DISMISS_DELAY` (at once if it sends anything), so that a client that
reopens whatever is closed cannot make the server spin accepting and closing.

The shares are sized for an office behind one NAT address: half of the service's connections and
half of its request slots, enough for dozens of browsers, while any other address keeps the rest.

Behind a reverse proxy every request comes from the proxy's address: with `trusted_proxies`, the
client's address is read from X-Forwarded-For, believed only on a connection from one of those
proxies; a trusted proxy's own connections are not held to one address's share.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from ..catalogue.records import InputError
from ..i18n import _

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_CONNECTIONS = 256  # open connections in all
MAX_REQUESTS = 64  # requests under way in all (past the body: the work itself)
DISMISS_DELAY = 1.0  # seconds a connection let go stays open (unread) before it is closed
MAX_DISMISSED = 512  # connections let go and not closed yet; beyond, closed at once


@dataclass(frozen=True)
class Share:
    """The limits, in total and per client address."""

    connections: int = MAX_CONNECTIONS
    connections_per_address: int = MAX_CONNECTIONS // 2
    requests: int = MAX_REQUESTS
    requests_per_address: int = MAX_REQUESTS // 2
    trusted_proxies: tuple[Network, ...] = field(default=())

    def trusts(self, address: str) -> bool:
        """Whether `address` is one of the configured proxies."""
        ip = _ip(address)
        return ip is not None and any(ip in net for net in self.trusted_proxies)

    def client_of(self, peer: str, headers: Iterable[tuple[bytes, bytes]]) -> str:
        """The client address of a request from `peer`: the peer itself, or, when the peer is a
        trusted proxy, the nearest address in X-Forwarded-For that is not one (the ones to its left
        were written by the client and are not believed)."""
        if not self.trusts(peer):
            return peer
        hops = [h.strip() for k, v in headers if k == b"x-forwarded-for" for h in v.decode("latin-1").split(",")]
        for hop in reversed(hops):
            ip = _ip(hop)
            if ip is None:
                break  # a malformed entry: nothing to its left can be believed
            if not self.trusts(hop):
                return str(ip)
        return peer


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().removeprefix("[").split("]")[0])
    except ValueError:
        return None


def read_proxies(values: Iterable[str]) -> tuple[Network, ...]:
    """The --trusted-proxy values: addresses or networks (10.0.0.5, 10.0.0.0/24, ::1)."""
    out = []
    for v in values:
        try:
            out.append(ipaddress.ip_network(v.strip(), strict=False))
        except ValueError:
            raise InputError(_("--trusted-proxy {value!r}: not an IP address or network (such as 10.0.0.5 or "
                               "10.0.0.0/24)").format(value=v)) from None
    return tuple(out)


class Conn(Protocol):
    """What the ledger needs of a connection (the h11 protocol is one)."""

    address: str
    last_active: float  # the event loop's time of its last request or answer

    def idle(self) -> bool:
        """No request under way: it may be let go without losing anyone's work."""


@dataclass
class Ledger:
    """The open connections by address, and which one gives way when a new one comes."""

    share: Share
    by_address: dict[str, set[Conn]] = field(default_factory=dict)
    count: int = 0

    def admit(self, conn: Conn) -> tuple[bool, Conn | None]:
        """(admitted, the connection to let go for it). Not admitted: the address is at its share
        or the server is full, and no connection is idle to make room."""
        own = self.by_address.get(conn.address, set())
        victim = None
        if len(own) >= self.share.connections_per_address and not self.share.trusts(conn.address):
            victim = _longest_idle(own)
            if victim is None:
                return False, None
        elif self.count >= self.share.connections:
            for _n, conns in sorted(((len(c), c) for c in self.by_address.values()), key=lambda x: -x[0]):
                victim = _longest_idle(conns)
                if victim is not None:
                    break
            if victim is None:
                return False, None
        if victim is not None:
            self.remove(victim)
        self.by_address.setdefault(conn.address, set()).add(conn)
        self.count += 1
        return True, victim

    def remove(self, conn: Conn) -> None:
        own = self.by_address.get(conn.address)
        if own is None or conn not in own:
            return
        own.discard(conn)
        self.count -= 1
        if not own:
            del self.by_address[conn.address]


def _longest_idle(conns: Iterable[Conn]) -> Conn | None:
    idle = [c for c in conns if c.idle()]
    return min(idle, key=lambda c: c.last_active) if idle else None
