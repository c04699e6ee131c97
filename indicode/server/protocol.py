"""uvicorn's h11 protocol with the three things a service on a desk or a department network needs
on top: a request head must arrive within a deadline (a half-sent request is not held open for
ever), the number of open connections is capped, and a request h11 cannot parse (a negative or
non-numeric Content-Length, an oversized header block) is answered in JSON like every other error.
"""
from __future__ import annotations

import asyncio
import socket

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .guard import HEADER_LIMIT, json_error


def raw_error(status: int, reason: str, message: str) -> bytes:
    """A whole JSON error answer, status line included, for a connection that then closes."""
    headers, body = json_error(message, close=True)
    head = f"HTTP/1.1 {status} {reason}\r\n".encode() + b"".join(k + b": " + v + b"\r\n" for k, v in headers)
    return head + b"\r\n" + body


class GuardedH11Protocol(H11Protocol):
    head_timeout = 10.0  # seconds for a request line and headers to arrive
    max_connections = 256  # set by protocol_class

    _head_timer: asyncio.TimerHandle | None = None  # closes a connection whose request head is late

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._head_timer = None
        # a reply goes out in two writes (head, body): with Nagle on, the second waits for the
        # client's delayed ACK, about 40 ms on every kept-alive request. asyncio turns Nagle off only
        # for sockets whose proto is TCP, which a socket made by hand and passed in is not.
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if len(self.connections) > self.max_connections:
            self._refuse(503, "Service Unavailable", "too many open connections; try again")
            return
        self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return  # closed already, or a request is under way (its body deadline is the Guard's)
        if self.conn.trailing_data[0]:  # part of a request arrived
            self._refuse(408, "Request Timeout", f"request headers not received within {self.head_timeout:g} s")
        else:
            self.transport.close()

    def _refuse(self, status: int, reason: str, message: str) -> None:
        self.transport.write(raw_error(status, reason, message))
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, "Bad Request", "invalid HTTP request (malformed request line, headers or Content-Length, "
                                         f"or headers larger than {HEADER_LIMIT} bytes)")

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()

    def connection_lost(self, exc) -> None:
        if self._head_timer is not None:  # None too when the connection was never made
            self._head_timer.cancel()
        super().connection_lost(exc)


def protocol_class(head_timeout: float, max_connections: int = 256) -> type[GuardedH11Protocol]:
    """The protocol with these settings (uvicorn takes a class)."""
    return type("IndicodeH11Protocol", (GuardedH11Protocol,),
                {"head_timeout": head_timeout, "max_connections": max_connections})
