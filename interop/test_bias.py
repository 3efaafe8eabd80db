"""Bias' own Python client (`biaspay`, pinned in requirements.txt) as the oracle.

1. The vendor's client, unmodified (its own base URL handling, paths and pydantic models), creates,
   retrieves and lists refunds on `refunds sandbox serve` (filters, expand, paging both ways), and
   streams events, reconnecting and catching up after the sandbox drops the connection.
2. The requests it sends, recorded by a recording proxy, are compared with those `refunds-bias`
   sends for the same operations (the crate's real client, driven by its `interop` example): method,
   path, decoded query (`filters` and `expand` as JSON), the headers that matter and the body as
   JSON. Any difference fails.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import pytest
from biaspay import Bias, IdempotencyError, InvalidRequestError, Payment, Refund

FIXTURES = {
    "payments": [
        {"provider": "bias", "id": f"pay_{name}", "amount": "10.000", "currency": "KWD"}
        for name in ("a", "b", "c", "d", "e", "f", "g", "h")
    ]
}


@pytest.fixture
def bias(serve, tmp_path):
    """`refunds sandbox serve --provider bias` with eight payments of 10.000 KWD."""
    fixtures = tmp_path / "fixtures.json"
    fixtures.write_text(json.dumps(FIXTURES))
    return serve("--provider", "bias", "--fixtures", str(fixtures))


def vendor(served, base_url=None) -> Bias:
    sandbox = served.sandbox("bias")
    return Bias(api_key=sandbox["api_key"], base_url=base_url or sandbox["url"], max_retries=0, timeout=10)


def ids(items):
    return [item.id for item in items]


def test_the_vendor_client_creates_retrieves_and_expands(bias):
    client = vendor(bias)
    partial = client.refunds.create(payment="pay_a", amount=2500)
    assert isinstance(partial, Refund)
    assert (partial.status, partial.amount, partial.payment, partial.live) == ("pending", 2500, "pay_a", False)
    assert partial.fees == {}
    rest = client.refunds.create(payment="pay_a")
    assert rest.amount == 7500, "a create without amount refunds what is left"

    got = client.refunds.get(partial.id)
    assert (got.id, got.created_at) == (partial.id, partial.created_at)
    expanded = client.refunds.get(partial.id, expand={"payment": True})
    assert isinstance(expanded.payment, Payment)
    assert (expanded.payment.id, expanded.payment.amount_refunded, expanded.payment.status) == ("pay_a", 10000, "succeeded")
    created = client.refunds.create(payment="pay_b", amount=100, expand={"payment": True})
    assert isinstance(created.payment, Payment) and created.payment.amount_refunded == 100

    bias.control("bias", "POST", f"/refunds/{partial.id}/settle")
    assert client.refunds.get(partial.id).status == "succeeded"

    with pytest.raises(InvalidRequestError) as over:
        client.refunds.create(payment="pay_a", amount=1)
    assert (over.value.status_code, over.value.code) == (400, "payment_already_refunded")
    with pytest.raises(InvalidRequestError) as too_much:
        client.refunds.create(payment="pay_b", amount=9901)
    assert too_much.value.code == "amount_too_large"
    with pytest.raises(InvalidRequestError) as missing:
        client.refunds.get("re_999999")
    assert (missing.value.status_code, missing.value.code) == (404, "resource_missing")


def test_the_vendor_client_lists_with_filters_and_pages_both_ways(bias):
    client = vendor(bias)
    made = [client.refunds.create(payment=f"pay_{p}", amount=100 * (n + 1)) for n, p in enumerate("abcdef")]
    newest_first = list(reversed(ids(made)))
    bias.control("bias", "POST", f"/refunds/{made[1].id}/settle")

    assert ids(client.refunds.list(limit=100).items) == newest_first
    assert ids(client.refunds.list(limit=2).auto_paging_iter()) == newest_first
    first = client.refunds.list(limit=2)
    assert first.has_more and ids(first.items) == newest_first[:2]
    second = client.refunds.list(limit=2, starting_after=first.items[-1].id)
    assert ids(second.items) == newest_first[2:4]
    back = client.refunds.list(limit=2, ending_before=second.items[0].id)
    assert ids(back.items) == newest_first[:2]

    of_payment = client.refunds.list(limit=10, filters={"payment": "pay_c"})
    assert ids(of_payment.items) == [made[2].id], "another payment's refunds are not listed"
    assert client.refunds.list(limit=10, filters={"payment": "pay_h"}).items == []
    succeeded = client.refunds.list(limit=10, filters={"status": "succeeded"})
    assert ids(succeeded.items) == [made[1].id]
    pending = client.refunds.list(limit=10, filters={"status": "pending", "payment": "pay_b"})
    assert pending.items == []
    at = made[3].created_at
    window = client.refunds.list(limit=10, filters={"created_at": {"gte": at, "lte": at}})
    assert ids(window.items) == [r.id for r in reversed(made) if r.created_at == at]
    later = client.refunds.list(limit=10, filters={"created_at": {"gt": at}})
    assert ids(later.items) == [r.id for r in reversed(made) if r.created_at > at]
    amounts = client.refunds.list(limit=10, filters={"amount": {"gte": 500}})
    assert ids(amounts.items) == [made[5].id, made[4].id]
    expanded = client.refunds.list(limit=1, expand={"payment": True})
    assert isinstance(expanded.items[0].payment, Payment)
    with pytest.raises(InvalidRequestError) as bad:
        client.refunds.list(filters={"colour": "red"})
    assert bad.value.code == "parameter_invalid"


def test_the_vendor_stream_gets_live_events_and_catches_up_after_a_drop(bias):
    client = vendor(bias)
    refunds = [client.refunds.create(payment=p, amount=100) for p in ("pay_a", "pay_b", "pay_c")]
    received = []

    def read():
        wanted = {"object": "refund", "type": "refund.succeeded"}
        for event in client.events.stream(limit=3, filters=wanted):
            received.append(event)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.5)
    bias.control("bias", "POST", f"/refunds/{refunds[0].id}/settle")
    deadline = time.monotonic() + 10
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [(e.type, e.state.id) for e in received] == [("refund.succeeded", refunds[0].id)]

    # The sandbox drops the stream; two refunds settle while the vendor's client reconnects. Its
    # catch-up (the event list from 5 s before the last event, newest first) finds them.
    assert bias.control("bias", "POST", "/streams/cut")[1] == {"cut": 1}
    bias.control("bias", "POST", f"/refunds/{refunds[1].id}/settle")
    bias.control("bias", "POST", f"/refunds/{refunds[2].id}/settle")
    reader.join(timeout=20)
    assert not reader.is_alive(), f"the stream did not finish: {[e.id for e in received]}"
    assert [e.state.id for e in received] == [r.id for r in refunds], "each once, in order"
    assert all(isinstance(e.state, Refund) and e.state.status == "succeeded" for e in received)

    page = client.events.list(limit=100, filters={"type": "refund.succeeded"})
    assert {e.state.id for e in page.items} == {r.id for r in refunds}
    assert client.events.get(page.items[0].id).id == page.items[0].id


def test_a_wrong_key_and_an_idempotency_conflict_read_as_the_vendor_types_them(bias):
    sandbox = bias.sandbox("bias")
    wrong = Bias(api_key="sk_test_not_the_sandbox", base_url=sandbox["url"], max_retries=0)
    with pytest.raises(InvalidRequestError) as denied:
        wrong.refunds.list()
    assert type(denied.value).__name__ == "AuthenticationError"
    keyed = Bias(api_key=sandbox["api_key"], base_url=sandbox["url"], max_retries=0,
                 default_headers={"idempotency-key": "interop-key-1"})
    first = keyed.refunds.create(payment="pay_g", amount=100)
    assert keyed.refunds.create(payment="pay_g", amount=100).id == first.id, "replayed"
    with pytest.raises(IdempotencyError) as conflict:
        keyed.refunds.create(payment="pay_g", amount=200)
    assert (conflict.value.status_code, conflict.value.code) == (409, "idempotency_params_mismatch")


# --- 2. the same operations through biaspay and refunds-bias, request by request -----------------

# Headers whose values must agree (the key, the pinned version, the body's type, the answer asked for);
# `idempotency-key` must be present on a create and absent otherwise (each client makes its own).
SAME_HEADERS = ("authorization", "api-version", "content-type", "accept")


def operations(ids_now):
    """The scripted operations, in both clients' terms. Limits are written out: refunds-bias always
    sends the page size, the vendor's client only when given (the server's default is the same)."""
    a, b, c = ids_now
    return [
        ({"op": "create", "payment": "pay_h", "amount_minor": 150},
         lambda v: v.refunds.create(payment="pay_h", amount=150)),
        ({"op": "create", "payment": "pay_f"},
         lambda v: v.refunds.create(payment="pay_f")),
        ({"op": "get", "id": a},
         lambda v: v.refunds.get(a)),
        ({"op": "get", "id": a, "expand": True},
         lambda v: v.refunds.get(a, expand={"payment": True})),
        ({"op": "list", "limit": 50},
         lambda v: v.refunds.list(limit=50)),
        ({"op": "list", "limit": 2, "after": b},
         lambda v: v.refunds.list(limit=2, starting_after=b)),
        ({"op": "list", "limit": 2, "before": c},
         lambda v: v.refunds.list(limit=2, ending_before=c)),
        ({"op": "list", "limit": 10, "payment": "pay_a"},
         lambda v: v.refunds.list(limit=10, filters={"payment": "pay_a"})),
        ({"op": "list", "limit": 10, "status": "succeeded"},
         lambda v: v.refunds.list(limit=10, filters={"status": "succeeded"})),
        ({"op": "list", "limit": 10, "payment": "pay_b", "status": "pending", "expand": True},
         lambda v: v.refunds.list(limit=10, filters={"payment": "pay_b", "status": "pending"}, expand={"payment": True})),
        ({"op": "list", "limit": 5, "created_gte_ms": 1700000000000, "created_lt_ms": 1900000000000},
         lambda v: v.refunds.list(limit=5, filters={"created_at": {"gte": 1700000000000, "lt": 1900000000000}})),
        ({"op": "events", "limit": 2},
         lambda v: list(v.events.stream(limit=2, filters={"object": "refund"}))),
    ]


def shape(request) -> dict:
    """What must agree between the two clients' requests."""
    query = {}
    for name, value in request.query:
        query[name] = json.loads(value) if name in ("filters", "expand") else value
    headers = {name: request.headers.get(name) for name in SAME_HEADERS}
    return {
        "method": request.method,
        "path": request.path,
        "query": query,
        "headers": headers,
        "idempotency-key": bool(request.headers.get("idempotency-key")),
        "body": json.loads(request.body) if request.body else None,
    }


def world(serve, fixtures: Path):
    """A Bias sandbox with three refunds (the first settled) and a recording proxy in front of it whose
    event stream answers two events of the sandbox's log. Two calls give two identical worlds."""
    served = serve("--provider", "bias", "--fixtures", str(fixtures))
    direct = vendor(served)
    setup = [direct.refunds.create(payment=p, amount=100) for p in ("pay_a", "pay_b", "pay_c")]
    served.control("bias", "POST", f"/refunds/{setup[0].id}/settle")
    log = direct.events.list(limit=2)
    lines = "".join(" " + json.dumps(e.model_dump(mode="json")) + "\n" for e in log.items).encode()
    return served, [r.id for r in setup], {"/v1/events": (200, "application/x-ndjson", lines)}


def test_refunds_bias_sends_what_the_vendor_client_sends(serve, recorder, bias_driver, tmp_path):
    fixtures = tmp_path / "fixtures.json"
    fixtures.write_text(json.dumps(FIXTURES))

    theirs_world, setup, canned = world(serve, fixtures)
    theirs = recorder(upstream=theirs_world.url("bias"), canned=canned)
    script = operations(setup)
    through_vendor = vendor(theirs_world, base_url=theirs.url)
    for _, call in script:
        call(through_vendor)

    ours_world, same_setup, canned = world(serve, fixtures)
    assert same_setup == setup
    ours = recorder(upstream=ours_world.url("bias"), canned=canned)
    sandbox = ours_world.sandbox("bias")
    env = {"BIAS_BASE_URL": ours.url, "BIAS_API_KEY": sandbox["api_key"], "BIAS_CURRENCY": sandbox["currency"]}
    script_text = "".join(json.dumps(op) + "\n" for op, _ in script)
    run = subprocess.run([str(bias_driver)], input=script_text, capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    outcomes = [json.loads(line) for line in run.stdout.splitlines()]
    assert all(o["ok"] for o in outcomes), outcomes

    from_vendor, from_rust = theirs.take(), ours.take()
    assert len(from_vendor) == len(from_rust) == len(script), (len(from_vendor), len(from_rust))
    for (op, _), vendor_request, rust_request in zip(script, from_vendor, from_rust):
        assert shape(rust_request) == shape(vendor_request), f"request shapes differ for {op}"
    assert from_vendor[0].headers["api-version"] == "2025-07-01"
