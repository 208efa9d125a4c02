#!/usr/bin/env python3
"""connect_proxy.py PORT_FILE LOG BYTES -- a tiny HTTP CONNECT proxy for the TLS tests.

Listens on 127.0.0.1 (an ephemeral port, written to PORT_FILE). Each client's request head
is logged, one line per header line, to LOG; only CONNECT is served (anything else gets 405
and is logged as refused). The tunnel's bytes, both ways, are appended to BYTES as they pass,
so that a test can assert what the proxy could see: with TLS in the tunnel, no token, no
secret, no Authorization header. Standard library only; stopped by SIGTERM.
"""
import os
import select
import signal
import socket
import sys
import threading

PORT_FILE, LOG, BYTES = sys.argv[1:4]
lock = threading.Lock()


def note(path, data):
    with lock, open(path, "ab") as f:
        f.write(data)


def read_head(client):
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 65536:
        chunk = client.recv(4096)
        if not chunk:
            break
        head += chunk
    return head


def pump(client, upstream):
    sockets = [client, upstream]
    while True:
        readable, _, _ = select.select(sockets, [], [], 60)
        if not readable:
            return
        for s in readable:
            data = s.recv(65536)
            if not data:
                return
            note(BYTES, data)
            (upstream if s is client else client).sendall(data)


def serve(client):
    upstream = None
    try:
        head = read_head(client)
        text, _, rest = head.partition(b"\r\n\r\n")
        for line in text.split(b"\r\n"):
            note(LOG, line + b"\n")
        parts = text.split(b"\r\n", 1)[0].split()
        if len(parts) < 2 or parts[0] != b"CONNECT":
            note(LOG, b"refused: not CONNECT\n")
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = parts[1].decode("ascii", "replace").rpartition(":")
        upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        upstream.settimeout(None)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if rest:
            note(BYTES, rest)
            upstream.sendall(rest)
        pump(client, upstream)
    except OSError as e:
        note(LOG, ("error: %s\n" % e).encode())
    finally:
        client.close()
        if upstream:
            upstream.close()


def main():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write("%d\n" % server.getsockname()[1])
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    while True:
        client, _ = server.accept()
        threading.Thread(target=serve, args=(client,), daemon=True).start()


if __name__ == "__main__":
    main()
