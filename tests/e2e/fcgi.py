"""A minimal FastCGI client (the responder role), for tests that talk to a worker socket
directly instead of through nginx: stalled and slow clients, exact control of reads.

    conn = fcgi_connect(stack.pool_socket(0))
    conn.sendall(fcgi_request({"REQUEST_METHOD": "GET", "DOCUMENT_URI": "/api/health"}))
    answer = fcgi_read_answer(conn)        # FcgiAnswer(status, headers, body, complete)
"""
import socket
import struct
import time
from collections import namedtuple

BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 3, 4, 5, 6, 7
RESPONDER = 1

FcgiAnswer = namedtuple("FcgiAnswer", "status headers body complete")


def record(rtype, content, request_id=1):
    return struct.pack("!BBHHBx", 1, rtype, request_id, len(content), 0) + content


def _length(n):
    return bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)


def encode_params(params):
    out = b""
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        out += _length(len(k)) + _length(len(v)) + k + v
    return out


def _stream(rtype, data):
    out = b""
    for i in range(0, len(data), 65535):
        out += record(rtype, data[i:i + 65535])
    return out + record(rtype, b"")


def fcgi_request(params, body=b"", keep_conn=False):
    """The whole byte stream of one request: BEGIN_REQUEST, PARAMS, STDIN. keep_conn sets
    FCGI_KEEP_CONN (what nginx sends with `fastcgi_keep_conn on`)."""
    p = {"REQUEST_METHOD": "GET", "QUERY_STRING": "", "CONTENT_LENGTH": str(len(body)),
         "SERVER_NAME": "localhost", "SERVER_PORT": "80", "REQUEST_SCHEME": "http"}
    p.update(params)
    if body:
        p.setdefault("CONTENT_TYPE", "application/json")
    begin = record(BEGIN_REQUEST, struct.pack("!HB5x", RESPONDER, 1 if keep_conn else 0))
    return begin + _stream(PARAMS, encode_params(p)) + _stream(STDIN, body)


def fcgi_connect(path, timeout=30):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def parse_answer(data):
    """Records → FcgiAnswer; `complete` says an END_REQUEST record arrived."""
    stdout, complete, at = b"", False, 0
    while at + 8 <= len(data):
        _, rtype, _, clen, plen = struct.unpack("!BBHHBx", data[at:at + 8])
        if at + 8 + clen + plen > len(data):
            break
        content = data[at + 8:at + 8 + clen]
        at += 8 + clen + plen
        if rtype == STDOUT:
            stdout += content
        elif rtype == END_REQUEST:
            complete = True
    head, _, body = stdout.partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").split("\r\n"):
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    status = int(headers.get("status", "200").split()[0]) if head else None
    return FcgiAnswer(status, headers, body, complete)


def fcgi_read_answer(conn, chunk=65536, pause=0.0, on_chunk=None, reset_ok=True):
    """Read until the worker closes the connection (or it is reset; with reset_ok=False a
    reset raises ConnectionResetError); optionally slowly: `chunk` bytes per recv and
    `pause` seconds between them. on_chunk(total_bytes) is called after each recv. Returns
    the parsed FcgiAnswer."""
    data = b""
    while True:
        try:
            k = conn.recv(chunk)
        except ConnectionResetError:
            if not reset_ok:
                raise
            break
        if not k:
            break
        data += k
        if on_chunk:
            on_chunk(len(data))
        if pause:
            time.sleep(pause)
    return parse_answer(data)
