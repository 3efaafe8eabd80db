"""Fixtures shared by the interop tests: the `refunds` binary, free ports, `refunds sandbox serve`
running for a test, and a small recording HTTP server (optionally a proxy) that keeps every request
it receives as sent: method, path, decoded query, headers and body.

Run through `interop/run.sh`, which builds the binaries and the virtual environment. Without it, set
REFUNDS_BIN (and REFUNDS_BIAS_DRIVER for the Bias request comparison) to built binaries.
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import signal
import socket
import subprocess
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def _binary(variable: str, default: Path) -> Path:
    path = Path(os.environ.get(variable, default))
    if not path.is_file():
        pytest.fail(f"{path} is missing: run interop/run.sh (or set {variable})")
    return path


@pytest.fixture(scope="session")
def refunds_bin() -> Path:
    """The `refunds` binary (REFUNDS_BIN, else target/debug/refunds)."""
    return _binary("REFUNDS_BIN", TARGET / "debug" / "refunds")


@pytest.fixture(scope="session")
def bias_driver() -> Path:
    """The `refunds-bias` request driver (`cargo build -p refunds-bias --example interop`)."""
    return _binary("REFUNDS_BIAS_DRIVER", TARGET / "debug" / "examples" / "interop")


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(name="free_port")
def free_port_fixture() -> Callable[[], int]:
    return free_port


@dataclass
class Served:
    """A running `refunds sandbox serve`: its description (the JSON line it printed) by provider."""

    process: subprocess.Popen
    description: dict

    def sandbox(self, provider: str) -> dict:
        for entry in self.description["sandboxes"]:
            if entry["provider"] == provider:
                return entry
        raise KeyError(provider)

    def url(self, provider: str) -> str:
        return self.sandbox(provider)["url"]

    def control(self, provider: str, method: str, path: str, body: Optional[dict] = None):
        """Calls the sandbox's control API (`/_sandbox/...`); returns (status, JSON)."""
        return http_json(method, self.sandbox(provider)["control"] + path, body)


def http_json(method: str, url: str, body: Optional[dict] = None, headers: Optional[dict] = None):
    """A plain HTTP call with the standard library; returns (status, JSON body or None)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status, text = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    return status, (json.loads(text) if text else None)


def start_serve(refunds_bin: Path, *args: str) -> Served:
    """Starts `refunds sandbox serve --format json ARGS` and reads its description line."""
    process = subprocess.Popen(
        [str(refunds_bin), "sandbox", "serve", "--format", "json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=10)
        pytest.fail(f"refunds sandbox serve exited {process.returncode}: {process.stderr.read()}")
    return Served(process, json.loads(line))


def stop_serve(served: Served) -> None:
    """SIGTERM, and the server must stop cleanly (exit 0) within 10 s."""
    served.process.send_signal(signal.SIGTERM)
    try:
        code = served.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        served.process.kill()
        pytest.fail("refunds sandbox serve did not stop on SIGTERM")
    assert code == 0, served.process.stderr.read()


@pytest.fixture
def serve(refunds_bin: Path):
    """A factory: `serve("--provider", "bias", ...)` starts a server for the test, stopped after it."""
    running: List[Served] = []

    def start(*args: str) -> Served:
        served = start_serve(refunds_bin, *args)
        running.append(served)
        return served

    yield start
    for served in running:
        if served.process.poll() is None:
            stop_serve(served)


@dataclass
class Recorded:
    """One request as the recording server received it."""

    method: str
    path: str
    query: List[Tuple[str, str]]
    headers: Dict[str, str]
    body: bytes


# Headers a proxy must not pass on (hop by hop), and those it rewrites.
_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length"}


@dataclass
class Recorder:
    """A recording HTTP server on 127.0.0.1. Every request is kept in `requests`. With `upstream`,
    requests are forwarded there and its answers passed back; `canned` answers some paths itself
    (path -> (status, content type, body))."""

    upstream: Optional[str] = None
    canned: Dict[str, Tuple[int, str, bytes]] = field(default_factory=dict)
    requests: List[Recorded] = field(default_factory=list)
    url: str = ""

    def take(self) -> List[Recorded]:
        taken, self.requests = self.requests, []
        return taken


def _handler(recorder: Recorder):
    class Handler(http.server.BaseHTTPRequestHandler):
        def _any(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            recorder.requests.append(
                Recorded(
                    method=self.command,
                    path=parsed.path,
                    query=urllib.parse.parse_qsl(parsed.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
            )
            if parsed.path in recorder.canned:
                status, content_type, answer = recorder.canned[parsed.path]
                return self._answer(status, [("content-type", content_type)], answer)
            if recorder.upstream is None:
                return self._answer(404, [("content-type", "application/json")], b'{"error":"not recorded"}')
            target = urllib.parse.urlsplit(recorder.upstream)
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            connection.request(self.command, self.path, body=body or None, headers=headers)
            answer = connection.getresponse()
            content = answer.read()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP]
            connection.close()
            self._answer(answer.status, kept, content)

        def _answer(self, status: int, headers, body: bytes) -> None:
            self.send_response_only(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.send_header("connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture
def recorder():
    """A factory: `recorder(upstream=url, canned={...})` starts a recording server for the test."""
    servers = []

    def start(upstream: Optional[str] = None, canned=None) -> Recorder:
        rec = Recorder(upstream=upstream, canned=dict(canned or {}))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
        rec.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return rec

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
