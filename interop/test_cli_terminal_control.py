"""Red-team attack C1 (fixed; kept as a regression test): text from a server must never reach the
terminal as control sequences.

DEVELOPERS.md: "text from a server is data, never terminal control". The CLI prints provider error
messages (stderr) and refund fields (stdout) as received: an xpay-shaped server puts ESC sequences
(set the window title, clear the screen, colours) in an error message and in refund fields, and
`refunds create`, `refunds recover` and `refunds get` wrote them to the terminal unchanged; now every
control character is escaped (as backslash-u{..}).
"""
import datetime
import http.server
import json
import os
import subprocess
import tempfile
import threading

ESC = "\u001b"
EVIL = ESC + "]0;PWNED" + "\u0007" + ESC + "[2J" + ESC + "[31m"


def refund(i):
    return {"id": f"re_{i}", "amount": "1000", "currency": "USD", "chargeId": "ch_1",
            "status": "succeeded" + EVIL, "reason": "requested_by_customer",
            "description": EVIL, "failureReason": EVIL,
            "createdAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send(500, {"error": {"type": "api_error", "code": "boom", "message": "failed " + EVIL}})

    def do_GET(self):
        if self.path.startswith("/refunds/"):
            self.send(200, refund(1))
        else:
            self.send(200, {"data": [refund(1)]})


def test_server_text_never_reaches_the_terminal_as_control(refunds_bin):
    server = http.server.HTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ, REFUNDS_PROVIDERS="xpay", XPAY_API_KEY="sk_test_redteam_0001",
               XPAY_BASE_URL=f"http://127.0.0.1:{server.server_port}")
    work = tempfile.mkdtemp()
    pending = os.path.join(work, "pending.json")
    runs = [
        ["create", "-p", "xpay", "--payment", "ch_1", "--amount", "10.00", "--currency", "USD", "--pending-file", pending],
        ["recover", pending],
        ["get", "-p", "xpay", "re_1"],
        ["get", "-p", "xpay", "re_1", "--format", "csv"],
    ]
    broken = []
    try:
        for args in runs:
            p = subprocess.run([str(refunds_bin)] + args, env=env, capture_output=True, cwd=work, timeout=60)
            for name, text in (("stdout", p.stdout), ("stderr", p.stderr)):
                if b"\x1b" in text or b"\x07" in text:
                    broken.append(f"refunds {args[0]} (exit {p.returncode}) {name}: {text[:300]!r}")
            if args[0] == "get":
                assert b"\\u{1b}" in p.stdout, p.stdout[:300]  # escaped, not dropped
    finally:
        server.shutdown()
    assert not broken, broken
