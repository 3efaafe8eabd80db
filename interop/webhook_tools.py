"""Helpers of the webhook interop tests: the `refunds` binary, and a one-request HTTP listener.

The vendors' libraries are the oracle: `stripe` (Stripe's official Python package, whose webhook
scheme WooshPay and xpay copy) and `bachs` (Bachs' official Python SDK, whose documentation site
hosts SyncgramPay's pages).
"""

from __future__ import annotations

import http.server
import os
import subprocess
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def refunds_bin() -> str:
    """The `refunds` binary: $REFUNDS_BIN, else the workspace's debug build (built when missing)."""
    given = os.environ.get("REFUNDS_BIN")
    if given:
        return given
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = target / "debug" / "refunds"
    if not binary.exists():
        subprocess.run(["cargo", "build", "-q", "-p", "refunds-cli"], cwd=ROOT, check=True)
    return str(binary)


def refunds(*args: str, secret: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Runs `refunds ARGS` with the webhook secret in $INTEROP_WEBHOOK_SECRET (`--secret-env`)."""
    env = {k: v for k, v in os.environ.items() if k != "SYNCGRAM_CURRENCY"}
    env["INTEROP_WEBHOOK_SECRET"] = secret
    return subprocess.run(
        [refunds_bin(), *args], input=stdin, capture_output=True, env=env, timeout=60, check=False
    )


class Listener:
    """An HTTP server on 127.0.0.1 that answers every POST with `status` and keeps what it got."""

    def __init__(self, status: int = 200) -> None:
        received: list[tuple[dict[str, str], bytes]] = []
        self.received = received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Listener":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
