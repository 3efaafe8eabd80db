"""`refunds sandbox serve` as a test in another language uses it: the README's curl and Python
examples run as written, the world survives a restart through the state file, faults are queued from
the command line, signed webhooks reach a URL with the secret printed, and SIGTERM stops it cleanly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, http_json, stop_serve

README = (ROOT / "README.md").read_text()
KEY = {"Authorization": "Bearer sk_test_bias_sandbox_4f2a9c"}


def readme_block(name: str) -> str:
    """The code block after `<!-- interop: NAME -->` in the README."""
    match = re.search(rf"<!-- interop: {name} -->\n```\w+\n(.*?)\n```", README, re.S)
    assert match, f"no README block {name}"
    return match.group(1)


def test_the_readme_python_example_runs(serve, free_port):
    port = free_port()
    served = serve("--provider", "bias", "--port", f"bias={port}")
    assert served.url("bias") == f"http://127.0.0.1:{port}"
    env = {**os.environ, "BIAS_BASE_URL": served.url("bias")}
    run = subprocess.run([sys.executable, "-c", readme_block("serve-python")], env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["re_000001 pay_py 1.500 KWD succeeded"]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readme_curl_example_runs(serve, free_port):
    port = free_port()
    served = serve("--provider", "bias", "--port", f"bias={port}")
    script = readme_block("serve-curl").replace("12111", str(port))
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    answers, text, decoder = [], run.stdout.strip(), json.JSONDecoder()
    while text:
        answer, end = decoder.raw_decode(text)
        answers.append(answer)
        text = text[end:].strip()
    ledger = answers[-1]
    assert [(r["payment"], r["amount"], r["status"]) for r in ledger] == [("pay_curl", "1.500", "succeeded")]
    assert served.control("bias", "GET", "")[1]["refunds"] == 1


def test_the_world_survives_a_restart_through_the_state_file(serve, tmp_path):
    state = tmp_path / "world.jsonl"
    first = serve("--provider", "bias", "--state", str(state))
    base = first.url("bias")
    first.control("bias", "POST", "/payments", {"id": "pay_kept", "amount": "2.000", "currency": "KWD"})
    status, made = http_json("POST", base + "/v1/refunds", {"payment": "pay_kept", "amount": 500},
                             {**KEY, "idempotency-key": "kept-1"})
    assert status == 200
    first.control("bias", "POST", f"/refunds/{made['id']}/settle")
    stop_serve(first)
    assert state.read_text().count("\n") == 3, state.read_text()

    second = serve("--provider", "bias", "--state", str(state))
    base = second.url("bias")
    status, again = http_json("GET", base + f"/v1/refunds/{made['id']}", headers=KEY)
    assert (status, again["status"], again["amount"]) == (200, "succeeded", 500)
    assert second.control("bias", "GET", "/payments/pay_kept")[1]["refundable"] == "1.500"
    status, replayed = http_json("POST", base + "/v1/refunds", {"payment": "pay_kept", "amount": 500},
                                 {**KEY, "idempotency-key": "kept-1"})
    assert (status, replayed["id"]) == (200, made["id"]), "the key still replays"


def test_faults_from_the_command_line_and_refusals(serve, refunds_bin):
    served = serve("--provider", "bias", "--fault", "unavailable:2")
    base = served.url("bias")
    assert [http_json("GET", base + "/v1/refunds", headers=KEY)[0] for _ in range(3)] == [503, 503, 200]
    assert served.control("bias", "GET", "/faults")[1]["service_unavailable"] == 2
    for bad in (["--fault", "teleport"], ["--provider", "paypal"], ["--port", "bias"], ["--sandbox"]):
        run = subprocess.run([str(refunds_bin), "sandbox", "serve", *bad], capture_output=True, text=True, timeout=30)
        assert run.returncode == 2, (bad, run.stderr)


def test_signed_webhooks_reach_the_url_given(serve, recorder):
    hooks = recorder()
    served = serve("--provider", "xpay", "--webhook-url", hooks.url + "/hooks")
    xpay = served.sandbox("xpay")
    secret = xpay["webhook_secret"]
    assert secret
    payment = xpay["demo_payment"]
    status, _ = http_json("POST", xpay["url"] + "/refunds", {"chargeId": payment["id"], "amount": 100},
                          {"Authorization": f"Bearer {xpay['api_key']}"})
    assert status == 200
    deadline = time.monotonic() + 10
    while not hooks.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    delivery = hooks.requests[0]
    assert (delivery.method, delivery.path) == ("POST", "/hooks")
    parts = dict(p.split("=", 1) for p in delivery.headers["xpay-signature"].split(","))
    signed = f"{parts['t']}.".encode() + delivery.body
    assert hmac.compare_digest(parts["v1"], hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest())


def test_sigterm_stops_every_sandbox_cleanly(serve):
    served = serve()
    providers = [s["provider"] for s in served.description["sandboxes"]]
    assert providers == ["fourgeeks", "xpay", "bias", "syncgram", "wooshpay"]
    urls = [s["url"] for s in served.description["sandboxes"]]
    stop_serve(served)
    for url in urls:
        with pytest.raises(OSError):
            http_json("GET", url + "/_sandbox")
