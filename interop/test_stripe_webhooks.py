"""Stripe's own library as the oracle of the Stripe-style webhook scheme WooshPay and xpay use.

Both ways: signatures made by `stripe.WebhookSignature.generate_signature_header` verify with the
WooshPay and xpay verifiers (through `refunds webhook verify`), and deliveries our side signs
(`refunds webhook trigger` to a small listener) verify with `stripe.Webhook.construct_event`. Where one
side refuses (an altered body, a stale timestamp) the other refuses too.
"""

from __future__ import annotations

import json
import time

import pytest
import stripe

from webhook_tools import Listener, refunds

SECRET = "whsec_interop_stripe_0123456789"
OTHER = "whsec_interop_stripe_rotated_999"

EVENTS = {
    # WooshPay: Stripe's envelope, unix-second `created`, the refund at data.object.
    "wooshpay": (
        "Wooshpay-Signature",
        {
            "id": "evt_3OaBcD2eZvKYlo2C1x2y3z4w",
            "object": "event",
            "api_version": "2022-11-15",
            "created": 1704067195,
            "data": {
                "object": {
                    "id": "re_3OaBcD2eZvKYlo2C0a1b2c3d",
                    "object": "refund",
                    "amount": 1999,
                    "currency": "eur",
                    "payment_intent": "pi_1787730829493927936",
                    "status": "succeeded",
                    "created": 1704067100,
                    "metadata": {},
                    "reason": "requested_by_customer",
                    "receipt_number": "1820-4419",
                }
            },
            "livemode": False,
            "pending_webhooks": 1,
            "type": "charge.refund.updated",
        },
    ),
    # xpay: ISO 8601 `created`, an evt_test_ id, the refund at data.object.
    "xpay": (
        "XPay-Signature",
        {
            "id": "evt_test_1a2b3c",
            "object": "event",
            "api_version": "2024-01-01",
            "created": "2024-01-01T00:00:00.000Z",
            "type": "refund.created",
            "livemode": False,
            "data": {
                "object": {
                    "id": "re_abc123",
                    "chargeId": "ch_xyz789",
                    "amount": "50000",
                    "currency": "EGP",
                    "status": "succeeded",
                    "reason": "requested_by_customer",
                    "balanceTransactionId": "bt_def456",
                    "createdAt": "2024-01-01T00:00:00.000Z",
                }
            },
        },
    ),
}


def verify(tmp_path, provider: str, body: str, *headers: str) -> tuple[int, dict | str]:
    """`refunds webhook verify` on `body` with `headers` ("Name: value"): exit code and JSON (or stderr)."""
    file = tmp_path / "body.json"
    file.write_bytes(body.encode())
    args = ["webhook", "verify", "-p", provider, "--secret-env", "INTEROP_WEBHOOK_SECRET", "--format", "json"]
    for header in headers:
        args += ["--header", header]
    done = refunds(*args, str(file), secret=SECRET)
    if done.returncode == 0:
        return 0, json.loads(done.stdout)
    return done.returncode, done.stderr.decode()


@pytest.mark.parametrize("provider", sorted(EVENTS))
def test_stripe_signatures_verify_with_our_verifier(tmp_path, provider):
    header, event = EVENTS[provider]
    # Pretty-printed on purpose: the signature covers these bytes, never a re-serialization.
    body = json.dumps(event, indent=2)
    signed = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    code, out = verify(tmp_path, provider, body, f"{header}: {signed}")
    assert code == 0, out
    assert out["verified"] is True and out["provider"] == provider
    assert out["id"] == event["id"] and out["type"] == event["type"]
    assert out["refund"]["id"] == event["data"]["object"]["id"]
    assert out["raw"] == event


@pytest.mark.parametrize("provider", sorted(EVENTS))
def test_a_rotation_header_with_two_v1_verifies(tmp_path, provider):
    header, event = EVENTS[provider]
    body = json.dumps(event)
    now = int(time.time())
    old = stripe.WebhookSignature.generate_signature_header(body, OTHER, timestamp=now)
    new = stripe.WebhookSignature.generate_signature_header(body, SECRET, timestamp=now)
    both = f"{new},v1={old.split('v1=')[1]}"
    stripe.WebhookSignature.verify_header(body, both, SECRET, tolerance=300)
    assert verify(tmp_path, provider, body, f"{header}: {both}")[0] == 0


@pytest.mark.parametrize("provider", sorted(EVENTS))
def test_where_stripe_refuses_we_refuse(tmp_path, provider):
    header, event = EVENTS[provider]
    body = json.dumps(event)
    signed = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    altered = body.replace(event["id"], event["id"] + "x")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(altered, signed, SECRET, tolerance=300)
    code, err = verify(tmp_path, provider, altered, f"{header}: {signed}")
    assert code == 2 and "webhook rejected" in err, err
    stale = stripe.WebhookSignature.generate_signature_header(body, SECRET, timestamp=int(time.time()) - 301)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body, stale, SECRET, tolerance=300)
    code, err = verify(tmp_path, provider, body, f"{header}: {stale}")
    assert code == 2 and "timestamp outside tolerance" in err, err
    wrong = stripe.WebhookSignature.generate_signature_header(body, OTHER)
    assert verify(tmp_path, provider, body, f"{header}: {wrong}")[0] == 2


@pytest.mark.parametrize(
    "provider, event_type",
    [
        ("wooshpay", "charge.refund.updated"),
        ("xpay", "refund.created"),
        ("xpay", "charge.refunded"),
        ("xpay", "refund.failed"),
    ],
)
def test_our_deliveries_verify_with_stripe(provider, event_type):
    header = EVENTS[provider][0].lower()
    with Listener() as listener:
        done = refunds(
            "webhook", "trigger", "-p", provider, "--secret-env", "INTEROP_WEBHOOK_SECRET",
            "--url", listener.url, event_type, "--format", "json",
            secret=SECRET,
        )
    assert done.returncode == 0, done.stderr.decode()
    sent = json.loads(done.stdout)
    assert sent["status"] == 200 and sent["event"]["type"] == event_type
    [(headers, body)] = listener.received
    event = stripe.Webhook.construct_event(body, headers[header], SECRET)
    assert event["id"] == sent["event"]["id"]
    assert event["type"] == event_type
    assert event["data"]["object"]["id"]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body + b" ", headers[header], SECRET)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers[header], OTHER)


def test_a_delivery_signed_in_the_past_is_stale_for_stripe_too():
    with Listener() as listener:
        done = refunds(
            "webhook", "trigger", "-p", "wooshpay", "--secret-env", "INTEROP_WEBHOOK_SECRET",
            "--url", listener.url, "--at", "2024-01-01T00:00:00Z",
            secret=SECRET,
        )
    assert done.returncode == 0, done.stderr.decode()
    [(headers, body)] = listener.received
    assert headers["wooshpay-signature"].startswith("t=1704067200,v1=")
    stripe.WebhookSignature.verify_header(body, headers["wooshpay-signature"], SECRET, tolerance=None)
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.WebhookSignature.verify_header(body, headers["wooshpay-signature"], SECRET, tolerance=300)
