"""Bad input at a real `ioc api serve`: 4xx with a message, never 500, never a backend's text."""

from __future__ import annotations

import contextlib
import http.client
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from ioc.core.settings import DEV_PLACEHOLDER
from ioc.testing.processes import ChildProcess, free_port
from tests.integration.api.api_helpers import Served, login
from tests.integration.api.api_process import ApiProcess

LIMIT = 64 * 1024


def _ws_url(url: str) -> str:
    return url.replace("http://", "ws://") + "/api/v1/alerts/live"


def _response(sock: socket.socket, data: bytes = b"") -> bytes:
    """Read one whole response (head and Content-Length body) after `data`, or to EOF."""
    while True:
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            if len(body) >= length:
                return data
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def test_declared_huge_body_is_413_before_it_is_sent(
        api_process: Callable[..., ApiProcess]) -> None:
    served = api_process()
    port = int(served.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        # 400 MiB announced, not a byte of it sent: the answer cannot wait for the body
        sock.sendall(b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 419430400\r\n\r\n")
        answer = _response(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"request body too large: the limit is 65536 bytes" in answer


def test_streamed_body_without_length_is_cut_off_at_the_limit(
        api_process: Callable[..., ApiProcess]) -> None:
    served = api_process()
    token = login(served.url, "oper")
    port = int(served.url.rsplit(":", 1)[1])
    chunk = b"x" * 16384
    sent, total = 0, 64 * 1024 * 1024
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /api/v1/alerts/any/comment HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + token.encode() + b"\r\n"
                     b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        sock.setblocking(False)
        answer = b""
        while sent < total and not answer:
            # once the server stops reading, sends fail: its answer is on the way
            with contextlib.suppress(BlockingIOError, BrokenPipeError, ConnectionResetError):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            with contextlib.suppress(BlockingIOError):
                answer = sock.recv(65536)
        sock.setblocking(True)
        answer = _response(sock, answer)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"the limit is 65536 bytes" in answer
    assert sent < total  # answered long before the 64 MiB were sent, not after reading them


@pytest.mark.parametrize("value", ["Bearer é".encode("latin-1"), "Bearer ioc1.é.sig".encode(),
                                   "Bearer ioc1.eyJ9.✓".encode()])
def test_non_ascii_authorization_header_is_401(api_process: Callable[..., ApiProcess],
                                               value: bytes) -> None:
    served = api_process()
    conn = http.client.HTTPConnection(served.url.removeprefix("http://"), timeout=30)
    conn.putrequest("GET", "/api/v1/auth/me")
    conn.putheader("Authorization", value)
    conn.endheaders()
    resp = conn.getresponse()
    body = orjson.loads(resp.read())
    assert resp.status == 401 and "malformed token" in body["detail"]


def test_readings_window_outside_influxdb_is_422_without_its_text(served_api: Served) -> None:
    url = f"{served_api.url}/api/v1/devices/{served_api.device_id}/readings"
    headers = served_api.headers("view")
    for params, message in (
            ({"since": "0001-01-01T00:00:00Z"}, "what InfluxDB can store"),
            ({"until": "9999-12-31T23:59:59+14:00"}, "what InfluxDB can store"),
            ({"since": "1677-09-22T00:00:00Z", "until": "2262-04-10T00:00:00Z"},
             "maximum of 31 days")):
        resp = requests.get(url, params=params, headers=headers, timeout=30)
        assert resp.status_code == 422, resp.text
        assert message in resp.json()["detail"]
    edge = requests.get(url, params={"since": "2262-04-01T00:00:00Z",
                                     "until": "2262-04-10T00:00:00Z"},
                        headers=headers, timeout=30)
    assert edge.status_code == 200 and edge.json()["count"] == 0  # InfluxDB took it


def test_binary_first_frame_closes_with_policy_violation(
        api_process: Callable[..., ApiProcess]) -> None:
    served = api_process()
    with connect(_ws_url(served.url), open_timeout=30) as ws:
        ws.send(orjson.dumps({"token": login(served.url, "view")}))  # bytes: a binary frame
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=30)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1008
    assert "text frame" in info.value.rcvd.reason


def test_websocket_message_over_the_limit_is_refused(
        api_process: Callable[..., ApiProcess]) -> None:
    served = api_process()
    with connect(_ws_url(served.url), open_timeout=30, max_size=None) as ws:
        ws.send("x" * (LIMIT + 1))
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=30)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009  # message too big
    assert served.child.alive()


def test_security_headers_on_console_and_api(api_process: Callable[..., ApiProcess]) -> None:
    served = api_process()
    console = requests.get(f"{served.url}/", timeout=30)
    api = requests.get(f"{served.url}/api/v1/alerts", timeout=30)  # a 401 is an answer too
    for resp in (console, api):
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["referrer-policy"] == "no-referrer"
    csp = console.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "script-src 'self';" in csp
    assert "<script>" not in console.text  # scripts are the package's files, nothing inline
    script = requests.get(f"{served.url}/static/js/console.js", timeout=30)
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]


def test_query_strings_never_reach_the_log(api_process: Callable[..., ApiProcess],
                                           eventually: Callable[..., None]) -> None:
    served = api_process()
    ws_secret, http_secret = "ioc1.ws-secret-in-url.sig", "ioc1.http-secret-in-url.sig"
    with connect(f"{_ws_url(served.url)}?token={ws_secret}", open_timeout=30) as ws, \
            pytest.raises(ConnectionClosed):
        ws.recv(timeout=30)  # refused: 4401 token in the URL
    requests.get(f"{served.url}/api/v1/alerts?token={http_secret}", timeout=30)
    eventually(lambda: "GET /api/v1/alerts?[redacted]" in served.log(), timeout=30,
               what="the request line in the access log")
    log = served.log()
    assert "/api/v1/alerts/live?[redacted]" in log
    assert ws_secret not in log and http_secret not in log and "token=" not in log


@pytest.mark.parametrize("secret", [DEV_PLACEHOLDER, "short"])
def test_placeholder_secret_is_refused_on_loopback_in_dev(tmp_path: Path, secret: str) -> None:
    port = free_port()
    child = ChildProcess("api", [sys.executable, "-m", "ioc", "api", "serve"],
                         tmp_path / "api.log",
                         env={"IOC_API_SECRET": secret, "IOC_PROFILE": "dev",
                              "IOC_STATE_DIR": str(tmp_path), "IOC_API_HOST": "127.0.0.1",
                              "IOC_API_PORT": str(port),
                              "IOC_CREDENTIALS": str(tmp_path / "none.env")})
    child.start()
    try:
        returncode = child.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        child.stop(10)
        pytest.fail(f"the API kept running with the secret {secret!r}: {child.log()}")
    assert returncode != 0
    assert "IOC_API_SECRET" in child.log()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
