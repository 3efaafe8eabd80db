"""Bachs' official Python SDK (`bachs` 2.0.0) as the oracle of SyncgramPay's webhook scheme.

SyncgramPay's pages live on docs.bachs.io and its deliveries are signed the Bachs way:
`X-Bachs-Signature-V2: t=<unix s>,v1=<hex>` over `t.body` (300 s, several v1 during a rotation), or
the legacy pair `X-Bachs-Timestamp` + `X-Bachs-Signature` over the same string.

The SDK only verifies (`bachs.webhooks.construct_event`; it has no signer), so the other direction is
proved in two steps: a signature made here by the scheme's recipe is first accepted by the vendor's
verifier, then by ours (`refunds webhook verify -p syncgram`). Deliveries our side signs (`refunds
webhook trigger`) are accepted by the vendor's verifier, in both forms. Where the vendor refuses (an
altered body, a stale timestamp, a malformed V2 beside a valid legacy pair), we refuse too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from bachs import BachsWebhookError, webhooks

from webhook_tools import Listener, refunds

SECRET = "interop-bachs-secret-0123"
OTHER = "interop-bachs-rotated-4567"

EVENT = {
    "id": "evt_01HN4X",
    "type": "refund.paid",
    "created_at": "2024-01-01T00:00:00Z",
    "organization_id": "org_01HN4X",
    "data": {
        "refund_id": "ref_a1b2c3d4e5f6",
        "charge_id": "ch_a1b2c3d4e5f6",
        "reference": "refund_ord_12345",
        "status": "success",
        "requested_amount": "50.00",
        "refunded_amount": "50.00",
        "refund_fee_amount": "0.50",
        "fee_bearer": "ORG",
        "reason": "Customer request",
        "created_at": "2024-01-16T09:00:00Z",
        "updated_at": "2024-01-16T09:05:00Z",
        "completed_at": "2024-01-16T09:05:00Z",
    },
}


def signature(secret: str, t: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()


def v2(t: int, body: bytes, *secrets: str) -> dict[str, str]:
    return {"X-Bachs-Signature-V2": f"t={t}," + ",".join(f"v1={signature(s, t, body)}" for s in secrets)}


def legacy(t: int, body: bytes, secret: str) -> dict[str, str]:
    return {"X-Bachs-Timestamp": str(t), "X-Bachs-Signature": signature(secret, t, body)}


def verify(tmp_path, body: bytes, headers: dict[str, str]) -> tuple[int, dict | str]:
    file = tmp_path / "body.json"
    file.write_bytes(body)
    args = ["webhook", "verify", "-p", "syncgram", "--currency", "USD"]
    args += ["--secret-env", "INTEROP_WEBHOOK_SECRET", "--format", "json"]
    for name, value in headers.items():
        args += ["--header", f"{name}: {value}"]
    done = refunds(*args, str(file), secret=SECRET)
    if done.returncode == 0:
        return 0, json.loads(done.stdout)
    return done.returncode, done.stderr.decode()


def both_accept(tmp_path, body: bytes, headers: dict[str, str]) -> dict:
    vendor = webhooks.construct_event(body, headers, SECRET)
    code, ours = verify(tmp_path, body, headers)
    assert code == 0, ours
    assert ours["id"] == vendor.id and ours["type"] == vendor.type
    return ours


def both_refuse(tmp_path, body: bytes, headers: dict[str, str]) -> str:
    with pytest.raises(BachsWebhookError):
        webhooks.construct_event(body, headers, SECRET)
    code, err = verify(tmp_path, body, headers)
    assert code == 2 and "webhook rejected" in err, err
    return err


def test_v2_and_rotation(tmp_path):
    body = json.dumps(EVENT, indent=2).encode()
    now = int(time.time())
    ours = both_accept(tmp_path, body, v2(now, body, SECRET))
    assert ours["kind"] == "succeeded", "refund.paid"
    assert ours["refund"]["id"] == "ref_a1b2c3d4e5f6"
    assert ours["refund"]["status"] == "succeeded", "Bachs' `success`"
    assert ours["refund"]["reconciliation"] == {"fee_bearer": "merchant"}
    # Several v1 during a rotation, upper-case hex: the vendor and we accept either.
    both_accept(tmp_path, body, v2(now, body, OTHER, SECRET))
    upper = {"X-Bachs-Signature-V2": f"t={now},v1={signature(SECRET, now, body).upper()}"}
    both_accept(tmp_path, body, upper)


def test_the_legacy_pair(tmp_path):
    body = json.dumps(EVENT).encode()
    now = int(time.time())
    ours = both_accept(tmp_path, body, legacy(now, body, SECRET))
    assert ours["kind"] == "succeeded"
    # The legacy pair signs t.body too: a signature of the body alone is refused by both.
    raw = {"X-Bachs-Timestamp": str(now), "X-Bachs-Signature": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}
    both_refuse(tmp_path, body, raw)


def test_where_the_vendor_refuses_we_refuse(tmp_path):
    body = json.dumps(EVENT).encode()
    now = int(time.time())
    altered = body.replace(b"50.00", b"90.00")
    both_refuse(tmp_path, altered, v2(now, body, SECRET))
    both_refuse(tmp_path, altered, legacy(now, body, SECRET))
    assert "tolerance" in both_refuse(tmp_path, body, v2(now - 301, body, SECRET))
    assert "tolerance" in both_refuse(tmp_path, body, legacy(now + 301, body, SECRET))
    both_refuse(tmp_path, body, v2(now, body, OTHER))
    # A malformed V2 never falls back to a valid legacy pair.
    malformed = {**legacy(now, body, SECRET), "X-Bachs-Signature-V2": f"v1={signature(SECRET, now, body)}"}
    both_refuse(tmp_path, body, malformed)
    both_refuse(tmp_path, body, {"X-Unrelated": "1"})


@pytest.mark.parametrize("form", ["v2", "legacy"])
@pytest.mark.parametrize("event_type", ["refund.created", "refund.paid", "refund.failed"])
def test_our_deliveries_verify_with_the_vendor(form, event_type):
    extra = ["--legacy"] if form == "legacy" else []
    with Listener() as listener:
        done = refunds(
            "webhook", "trigger", "-p", "syncgram", "--secret-env", "INTEROP_WEBHOOK_SECRET",
            "--url", listener.url, event_type, "--format", "json", *extra,
            secret=SECRET,
        )
    assert done.returncode == 0, done.stderr.decode()
    sent = json.loads(done.stdout)
    [(headers, body)] = listener.received
    assert ("x-bachs-signature-v2" in headers) == (form == "v2")
    event = webhooks.construct_event(body, headers, SECRET)
    assert event.id == sent["event"]["id"]
    assert event.type == event_type
    assert event.organization_id
    assert event.data["refund_id"].startswith("ref_")
    with pytest.raises(BachsWebhookError):
        webhooks.construct_event(body + b" ", headers, SECRET)
    with pytest.raises(BachsWebhookError):
        webhooks.construct_event(body, headers, OTHER)
