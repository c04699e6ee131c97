"""The transport under the HTTP layer, in process: Nagle off on every accepted connection (a reply
is written in two parts; with Nagle on, each kept-alive request waits for the client's delayed ACK,
about 40 ms), keep-alive kept, and the server stops cleanly."""
import http.client
import socket
import time

from indicode.server.share import Share
from server_proc import server_in_thread


def test_accepted_connections_have_nagle_off_and_stay_alive(linker):
    with server_in_thread(linker) as (server, port):
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


def test_connections_beyond_the_cap_get_a_json_503(linker):
    """When every connection has a request under way (here: a body still to come), none can give
    way: one more is answered 503."""
    held = []
    with server_in_thread(linker, share=Share(connections=3, connections_per_address=3)) as (server, port):
        try:
            for _ in range(3):
                held.append(socket.create_connection(("127.0.0.1", port), timeout=30))
                held[-1].sendall(f"POST /api/feedback HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                                 "Content-Type: application/json\r\nContent-Length: 10\r\n\r\n".encode())
            time.sleep(0.2)
            extra = socket.create_connection(("127.0.0.1", port), timeout=30)
            answer = b""
            while chunk := extra.recv(4096):
                answer += chunk
            extra.close()
            assert answer.startswith(b"HTTP/1.1 503") and b"too many open connections" in answer
            held.pop().close()  # one leaves: the next one is served
            deadline = time.monotonic() + 30
            while len(server.server_state.connections) >= 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/api/health")
            assert conn.getresponse().status == 200
            conn.close()
        finally:
            for s in held:
                s.close()
