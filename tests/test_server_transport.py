"""The transport under the HTTP layer, in process: Nagle off on every accepted connection (a reply
is written in two parts; with Nagle on, each kept-alive request waits for the client's delayed ACK,
about 40 ms), keep-alive kept, and the server stops cleanly."""
import http.client
import socket
import threading
import time

from indicode.server import make_server


def test_accepted_connections_have_nagle_off_and_stay_alive(linker):
    server, sock, url = make_server(linker, "127.0.0.1", 0)
    port = sock.getsockname()[1]
    t = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    t.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(3):  # three requests, one connection
            conn.request("GET", "/api/codes/112000272")
            r = conn.getresponse()
            assert r.status == 200 and r.getheader("connection") != "close"
            r.read()
        protocols = list(server.server_state.connections)
        assert len(protocols) == 1
        accepted = protocols[0].transport.get_extra_info("socket")
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        conn.close()
    finally:
        server.should_exit = True
        t.join(10)
    assert not t.is_alive()
