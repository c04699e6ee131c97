"""Binding and start-up: which address, which Host names, which limits."""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable

import uvicorn

from ..matcher.linker import Linker
from ..workspace import Workspace
from .app import create_app
from .guard import HEADER_LIMIT, Guard
from .protocol import protocol_class
from .service import Service
from .share import Share

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
KEEP_ALIVE = 5.0  # seconds an idle kept-alive connection stays open


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses; '' (every address) and names are not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def served_hosts(host: str, port: int, extra: Iterable[str] = ()) -> set[str]:
    """The Host header values this server answers to: the loopback names on loopback; the --host
    name otherwise (for 0.0.0.0 / :: the machine's own names and the loopback names), plus any
    `extra` names (--allow-host). A browser leaves out :80, so the bare name counts there."""
    if is_loopback(host):
        names = set(LOOPBACK_NAMES)
    elif host in ("0.0.0.0", "::", ""):
        names = set(LOOPBACK_NAMES) | {socket.gethostname(), socket.getfqdn()}
    else:
        names = {host}
    names |= set(extra)
    out = {f"{_bracket(n).lower()}:{port}" for n in names}
    if port == 80:
        out |= {_bracket(n).lower() for n in names}
    return out


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def make_server(linker: Linker, host: str = "127.0.0.1", port: int = 8000, token: str = "",
                allow_hosts: Iterable[str] = (), timeout: float = 10.0,
                share: Share | None = None, workspace: Workspace | None = None,
                follow: bool = True) -> tuple[uvicorn.Server, socket.socket, str]:
    """The uvicorn server for `linker` on a listening socket, and the URL it serves. `timeout`:
    seconds a request's head, and then its body, may take to arrive. `share`: the connection and
    request limits, in total and per client address, and the trusted proxies. `workspace`: where
    feedback goes and whose decisions are applied; `follow`: serve the workspace's catalogue as it
    changes (False when a --catalogue was given)."""
    sock = bind(host, port)
    port = sock.getsockname()[1]
    service = Service(linker, workspace, follow)
    app = Guard(create_app(service, token=token, needs_token=not is_loopback(host)),
                served_hosts(host, port, allow_hosts), timeout=timeout, share=share)
    config = uvicorn.Config(app, http=protocol_class(timeout, share), lifespan="off", log_level="warning",
                            access_log=False, server_header=False, timeout_keep_alive=int(KEEP_ALIVE),
                            h11_max_incomplete_event_size=HEADER_LIMIT, timeout_graceful_shutdown=2)
    return uvicorn.Server(config), sock, f"http://{_bracket(host)}:{port}/"


def serve(linker: Linker, host: str = "127.0.0.1", port: int = 8000, token: str = "",
          allow_hosts: Iterable[str] = (), timeout: float = 10.0,
          on_ready: Callable[[str], None] | None = None, workspace: Workspace | None = None,
          follow: bool = True, share: Share | None = None) -> None:
    """Serve until interrupted (SIGINT/SIGTERM). `on_ready(url)` is called once the socket listens."""
    server, sock, url = make_server(linker, host, port, token, allow_hosts, timeout, share=share,
                                    workspace=workspace, follow=follow)
    if on_ready:
        on_ready(url)
    server.run(sockets=[sock])
