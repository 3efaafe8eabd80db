#!/usr/bin/env python3
"""Writes each fuzz target's seed corpus into fuzz/seeds/<target>/ from the documented fixtures.

The fixtures are the source of truth (providers/*/tests/fixtures: the bodies each provider's docs
show, as the conformance tests read them; the TOML examples of the registry's and the CLI's READMEs),
so the seeds are made from them on each run instead of being copied into the repository. Each seed
carries the framing its target reads (see fuzz/src/lib.rs and each target's header comment).

Usage: python3 fuzz/seed.py            (from anywhere; standard library only)
"""

import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "seeds"
PROVIDERS = ["fourgeeks", "xpay", "bias", "syncgram", "wooshpay"]
REFUND, LIST, ERROR = 0, 1, 2
NOW = 1_750_000_000  # refunds_fuzz::NOW_UNIX


def text(body):
    """A fixture body as the bytes a server sends: strings as they are, JSON values serialized."""
    return body if isinstance(body, str) else json.dumps(body)


def provider_bodies(provider):
    """(kind, status, body) of every documented answer of one provider."""
    fixtures = ROOT / "providers" / provider / "tests" / "fixtures"
    documented = json.loads((fixtures / "documented.json").read_text())
    answers = [json.dumps(documented["answer"])]
    answers += [text(r["body"]) for r in documented.get("responses", [])]
    errors = [(e["status"], text(e["body"])) for e in documented.get("errors", [])]
    for path in sorted(fixtures.glob("*.json")):
        if path.name == "documented.json":
            continue
        value = json.loads(path.read_text())
        if isinstance(value, list):  # a table of cases: error rows have a status, others are bodies
            for row in value:
                if isinstance(row, dict) and "status" in row and "body" in row:
                    errors.append((row["status"], text(row["body"])))
                else:
                    answers.append(json.dumps(row))
        elif "error" in path.stem:
            errors.append((400, path.read_text()))
        else:
            answers.append(path.read_text())
    # An answer may be a refund or a page: each is tried as both.
    seeds = [(kind, 0, body) for body in answers for kind in (REFUND, LIST)]
    return seeds + [(ERROR, status, body) for status, body in errors]


def frame_body(kind, status, body, key=False, headers=""):
    """The `refunds_fuzz::bodies` framing: kind, client, status - 100 (big-endian), key byte, answer."""
    code = max(status - 100, 0)
    head = bytes([kind, 0, code >> 8, code & 0xFF, 0x81 if key else 0])
    answer = body.encode()
    if kind == ERROR:
        answer = headers.encode() + b"\n\n" + answer
    return head + answer


def refund_answers(provider):
    fixtures = ROOT / "providers" / provider / "tests" / "fixtures"
    return [json.loads((fixtures / "documented.json").read_text())["answer"]]


def webhook_events():
    """(pick, envelope) per signing provider, wrapping its documented refund: xpay, WooshPay, SyncgramPay."""
    iso = "2025-06-15T15:06:40Z"
    for answer in refund_answers("xpay"):
        for kind in ("refund.created", "refund.updated", "charge.refunded", "payment.created"):
            yield 0, {"id": "evt_test_1", "object": "event", "type": kind, "created": iso,
                      "livemode": False, "data": {"object": answer}}
    for answer in refund_answers("wooshpay"):
        for kind in ("charge.refund.updated", "charge.succeeded"):
            yield 1, {"id": "evt_1", "object": "event", "created": NOW, "livemode": False,
                      "type": kind, "data": {"object": answer}}
    for answer in refund_answers("syncgram"):
        for kind in ("refund.succeeded", "refund.failed", "collection.succeeded"):
            yield 2, {"id": "evt_1", "type": kind, "created_at": iso, "data": answer}


SIGNATURE_HEADERS = ["XPay-Signature", "Wooshpay-Signature", "X-Syncgram-Signature"]


def bias_events():
    for answer in refund_answers("bias"):
        yield {"id": "event_1", "type": "refund.created", "created_at": NOW * 1000, "state": answer,
               "previous_state": None}
        yield {"id": "event_2", "type": "refund.updated", "created_at": NOW * 1000, "state": answer,
               "previous_state": answer}
    yield {"id": "event_3", "type": "payment.created", "created_at": NOW * 1000, "state": {}}


def toml_examples():
    for readme in [ROOT / "registry" / "README.md", ROOT / "cli" / "README.md"]:
        if readme.exists():
            yield from re.findall(r"```toml\n(.*?)```", readme.read_text(), re.S)
    # Every provider in one file, each setting written once literally and once through a variable.
    yield "".join(f'[providers.{p}]\napi_key_env = "{p.upper()}_API_KEY"\ncurrency = "USD"\n'
                  f'base_url = "http://127.0.0.1:8080/"\n\n' for p in PROVIDERS)
    yield "".join(f'[providers.{p}]\ncurrency_env = "{p.upper()}_CURRENCY"\nbase_url_env = "{p.upper()}_URL"\n\n'
                  for p in PROVIDERS)


def pending_creates():
    """Every documented create request, as the pending create a failed call would have saved."""
    for provider in PROVIDERS:
        documented = ROOT / "providers" / provider / "tests" / "fixtures" / "documented.json"
        for case in json.loads(documented.read_text()).get("requests", []):
            if "request" in case:
                yield {"request": case["request"], "provider": provider, "started_at": "2025-06-15T15:06:40Z"}


def main():
    seeds = {}

    def add(target, data):
        seeds.setdefault(target, []).append(data)

    for provider in PROVIDERS:
        for kind, status, body in provider_bodies(provider):
            add(f"{provider}_bodies", frame_body(kind, status, body))
            if kind == ERROR:
                add(f"{provider}_bodies", frame_body(kind, status, body, key=True,
                                                     headers="Request-Id: req_1\nRetry-After: 2"))
    for pick, event in webhook_events():
        body = json.dumps(event).encode()
        add("webhooks", bytes([pick, 1]) + b"\n\n" + body)
        forged = f"{SIGNATURE_HEADERS[pick]}: t={NOW},v1={'0' * 64}"
        add("webhooks", bytes([pick, 0]) + forged.encode() + b"\n\n" + body)
    stream = b"".join(json.dumps(e).encode() + b"\n \n" for e in bias_events())
    add("event_stream", bytes([0, 7]) + stream)
    add("event_stream", bytes([64, 3]) + b"  \n" + stream)
    for example in toml_examples():
        add("config_toml", example.encode())
    for pending in pending_creates():
        add("pending_file", json.dumps(pending).encode())

    # Written in place (two runs may seed at once: they write the same bytes); a seed whose fixture
    # is gone is removed.
    for target, items in sorted(seeds.items()):
        folder = OUT / target
        folder.mkdir(parents=True, exist_ok=True)
        names = {f"seed-{i:03}" for i in range(len(items))}
        for old in folder.iterdir():
            if old.name not in names:
                old.unlink(missing_ok=True)
        for i, data in enumerate(items):
            (folder / f"seed-{i:03}").write_bytes(data)
        print(f"{target}: {len(items)} seeds")


if __name__ == "__main__":
    main()
