"""uvicorn's h11 protocol with the three things a service on a desk or a department network needs
on top: a request head must arrive within a deadline (a half-sent request is not held open for
ever), open connections are capped in total and per client address (`share.Ledger` decides which
idle connection gives way), and a request h11 cannot parse (a negative or non-numeric
Content-Length, an oversized header block) is answered in JSON like every other error.
"""
from __future__ import annotations

import asyncio
import re
import socket

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..i18n import _, current_language, language_from_header, use_language
from .guard import HEADER_LIMIT, json_error
from .share import DISMISS_DELAY, MAX_DISMISSED, Ledger, Share


def raw_error(status: int, reason: str, message: str) -> bytes:
    """A whole JSON error answer, status line included, for a connection that then closes."""
    headers, body = json_error(message, close=True)
    head = f"HTTP/1.1 {status} {reason}\r\n".encode() + b"".join(k + b": " + v + b"\r\n" for k, v in headers)
    return head + b"\r\n" + body


ACCEPT_LANGUAGE = re.compile(rb"\r\naccept-language:[ \t]*([^\r\n]{0,500})", re.I)


def language_of_head(data: bytes) -> str:
    """The language a refusal before the app is said in: the Accept-Language of the request head
    received so far (complete or not), the process's language when it names none we speak."""
    m = ACCEPT_LANGUAGE.search(data[:HEADER_LIMIT])
    return language_from_header(m.group(1).decode("latin-1") if m else "", default=current_language())


class GuardedH11Protocol(H11Protocol):
    head_timeout = 10.0  # seconds for a request line and headers to arrive
    ledger = Ledger(Share())  # the server's open connections by address: set by protocol_class
    dismissed = 0  # connections let go and not closed yet (one count per server, like the ledger)

    _head_timer: asyncio.TimerHandle | None = None  # closes a connection whose request head is late
    _close_timer: asyncio.TimerHandle | None = None  # closes a connection let go
    address = ""
    last_active = 0.0
    let_go = False
    _head = b""  # the first bytes of the request under way (h11 drops what it could not parse)

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._head_timer = None
        self.address = self.client[0] if self.client else ""
        self.last_active = self.loop.time()
        # a reply goes out in two writes (head, body): with Nagle on, the second waits for the
        # client's delayed ACK, about 40 ms on every kept-alive request. asyncio turns Nagle off only
        # for sockets whose proto is TCP, which a socket made by hand and passed in is not.
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        admitted, victim = self.ledger.admit(self)
        if isinstance(victim, GuardedH11Protocol):
            victim.let_go_of()
        if not admitted:
            self.let_go_of(raw_error(503, "Service Unavailable", _("too many open connections; try again")))
            return
        self._arm_head_timer()

    def idle(self) -> bool:
        """No request under way on this connection (none yet, between requests, or a head half sent)."""
        return (not self.let_go and not self.transport.is_closing() and self.conn.their_state is h11.IDLE
                and self.conn.our_state is h11.IDLE)

    def let_go_of(self, answer: bytes = b"") -> None:
        """Stop serving this connection (after `answer`, if any) and close it DISMISS_DELAY later, or
        as soon as the client sends anything: a client that reopens whatever is closed waits too."""
        cls = type(self)
        self.let_go = True
        self.ledger.remove(self)
        self._unset_keepalive_if_required()
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if answer:
            self.transport.write(answer)
        if cls.dismissed >= MAX_DISMISSED:
            self.transport.close()
            return
        cls.dismissed += 1
        self._close_timer = self.loop.call_later(DISMISS_DELAY, self.transport.close)

    def data_received(self, data: bytes) -> None:
        if self.let_go:
            self.transport.close()
            return
        self.last_active = self.loop.time()
        if len(self._head) < HEADER_LIMIT:  # what a refusal before the app reads its language from
            self._head += data[:HEADER_LIMIT - len(self._head)]
        super().data_received(data)

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return  # closed already, or a request is under way (its body deadline is the Guard's)
        if self.conn.trailing_data[0]:  # part of a request arrived
            with use_language(language_of_head(self._head)):
                said = _("request headers not received within {seconds:g} s").format(seconds=self.head_timeout)
            self._refuse(408, "Request Timeout", said)
        else:
            self.transport.close()

    def _refuse(self, status: int, reason: str, message: str) -> None:
        self.transport.write(raw_error(status, reason, message))
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        with use_language(language_of_head(self._head)):
            said = _("invalid HTTP request (malformed request line, headers or Content-Length, or headers larger "
                     "than {n} bytes)").format(n=HEADER_LIMIT)
        self._refuse(400, "Bad Request", said)

    def on_response_complete(self) -> None:
        self.last_active = self.loop.time()
        self._head = b""
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()

    def connection_lost(self, exc) -> None:
        if self._head_timer is not None:  # None too when the connection was never made
            self._head_timer.cancel()
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
            type(self).dismissed -= 1
        self.ledger.remove(self)
        super().connection_lost(exc)


def protocol_class(head_timeout: float, share: Share | None = None) -> type[GuardedH11Protocol]:
    """The protocol with these settings, and a ledger of its own (uvicorn takes a class)."""
    return type("IndicodeH11Protocol", (GuardedH11Protocol,),
                {"head_timeout": head_timeout, "ledger": Ledger(share or Share()), "dismissed": 0})
