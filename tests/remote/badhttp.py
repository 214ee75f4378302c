#!/usr/bin/env python3
"""A deliberately bad HTTP server for the remote cache's tests.

badhttp.py PORT MODE, on 127.0.0.1, one thread per connection:
  hang      read the request, answer nothing for 30 s, then close
  truncate  200 with Content-Length: 100000 and 10 bytes, then close
  garbage   200 with 4096 random bytes to GET, 200 to HEAD and PUT
  slowput   GET/HEAD as 404, PUT read and then 30 s of silence
  trickle   a status line, then a header line every 0.5 s, never ending
            (each wait is shorter than any idle timeout)
  tricklebody  200 saying a 1 MB body, then a byte of it every 0.25 s
            (faster than libcurl's low-speed limit of 1 byte a second)
  headers   a status line, then header lines as fast as it can
  rawtrickle  any protocol: "+" then a byte every 0.5 s, never a line end
            (a Redis reply that never ends), the request not even read
  bigerror  404 saying a 1 MiB body, of which 100 KiB come, then 30 s of
            silence (a client that reads it all waits for ever)
With $BADHTTP_CERT and $BADHTTP_KEY set it speaks TLS (https).
Every wait is bounded: the server exits after 120 s whatever happens.
"""
import os
import ssl
import socket
import sys
import threading
import time

port, mode = int(sys.argv[1]), sys.argv[2]


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method = lines[0].split(" ")[0]
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return method, rest


def serve(conn):
    conn.settimeout(60)
    try:
        if os.environ.get("BADHTTP_CERT"):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.environ["BADHTTP_CERT"], os.environ["BADHTTP_KEY"])
            conn = ctx.wrap_socket(conn, server_side=True)
        if mode == "rawtrickle":
            conn.sendall(b"+")
            while True:
                time.sleep(0.5)
                conn.sendall(b"a")
        while True:
            method, _ = read_request(conn)
            if method is None:
                return
            if mode == "hang" or (mode == "slowput" and method == "PUT"):
                time.sleep(30)
                return
            if mode in ("trickle", "headers"):
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                n = 0
                while True:
                    conn.sendall(b"X-Trickle-%d: yes\r\n" % n)
                    n += 1
                    if mode == "trickle":
                        time.sleep(0.5)
            if mode == "tricklebody":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
                while True:
                    time.sleep(0.25)
                    conn.sendall(b"x")
            if mode == "bigerror":
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: %d\r\n\r\n" % (1 << 20))
                conn.sendall(b"e" * (100 << 10))
                time.sleep(30)
                return
            if mode == "truncate":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n0123456789")
                return
            if mode == "slowput":
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                continue
            if mode == "garbage":
                body = os.urandom(4096) if method == "GET" else b""
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                continue
            return
    except OSError:
        return
    finally:
        conn.close()


def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    srv.settimeout(1)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        print("accepted", flush=True)
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
