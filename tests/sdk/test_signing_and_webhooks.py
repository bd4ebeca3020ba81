"""The SDK's signature is the API document's, and its webhook verifier accepts exactly what
the gateway signs (no gateway process needed)."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caci_gateway import WebhookVerificationError, WebhookVerifier, generate_signature
from caci_gateway._core import RetryPolicy
from caci_gateway.signing import encode_body
from caci_gateway.webhooks import infer_event_type
from clearing_gateway.webhooks.signing import new_secret, signature_headers
from tests.support.seed_client import generate_signature as seed_signature
from tests.webhooks.conftest import transfer, va_payment

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    method=st.sampled_from(["POST", "PUT", "PATCH", "DELETE"]),
    body=st.dictionaries(st.text(max_size=6), json_values, max_size=5),
    timestamp=st.integers(min_value=0, max_value=10**13),
)
def test_signature_is_the_documents_reference(
    method: str, body: dict[str, Any], timestamp: int
) -> None:
    raw = encode_body(body)
    assert generate_signature(method, "/d/v1/users", raw, timestamp, "s3cret") == seed_signature(
        method, "/d/v1/users", raw, timestamp, "s3cret"
    )
    # Key order and whitespace of the raw text do not change the signature.
    loose = json.dumps(body, indent=2)
    assert generate_signature(method, "/v1/x", loose, timestamp, "k") == seed_signature(
        method, "/v1/x", raw, timestamp, "k"
    )


def delivery(
    secrets: list[str], payload: dict[str, Any], at: float
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = signature_headers(
        event_id="evt-1",
        body=body,
        secrets_in_use=secrets,
        at=dt.datetime.fromtimestamp(at, dt.UTC),
    )
    return body, headers


def test_verifies_what_the_gateway_signs_and_nothing_else() -> None:
    secret = new_secret()
    now = time.time()
    body, headers = delivery([secret], va_payment("tx-1", "m-1"), now)
    event = WebhookVerifier(secret).verify(body, headers)
    assert (event.id, event.event_type, event.caci_tx_id) == ("evt-1", "va_payment", "tx-1")
    assert event.confirm_with == "deposit"

    with pytest.raises(WebhookVerificationError):
        WebhookVerifier(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        WebhookVerifier(secret).verify(body.replace(b"100000", b"900000"), headers)
    with pytest.raises(WebhookVerificationError):
        WebhookVerifier(secret).verify(
            body, {k: v for k, v in headers.items() if k != "webhook-signature"}
        )
    upper = {k.upper(): v for k, v in headers.items()}
    assert WebhookVerifier(secret).verify(body, upper).id == "evt-1"


def test_timestamp_tolerance_both_ways() -> None:
    secret = new_secret()
    now = time.time()
    old_body, old_headers = delivery([secret], va_payment("tx-1", "m"), now - 301)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        WebhookVerifier(secret).verify(old_body, old_headers)
    future_body, future_headers = delivery([secret], va_payment("tx-1", "m"), now + 301)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        WebhookVerifier(secret).verify(future_body, future_headers)
    assert WebhookVerifier(secret, tolerance_seconds=600).verify(old_body, old_headers)


def test_rotation_signs_with_both_secrets() -> None:
    old, new = new_secret(), new_secret()
    body, headers = delivery([new, old], transfer("tx-9"), time.time())
    assert WebhookVerifier(old).verify(body, headers).event_type == "transfer"
    assert WebhookVerifier(new).verify(body, headers).caci_tx_id == "tx-9"
    assert WebhookVerifier(old).verify(body, headers).confirm_with == "withdrawal"


def test_event_types_are_inferred_from_the_payload() -> None:
    assert infer_event_type(va_payment("t", "m")) == "va_payment"
    assert infer_event_type({**va_payment("t", "m"), "virtualAccountType": "02"}) == "qr_payment"
    assert infer_event_type(transfer("t")) == "transfer"
    assert infer_event_type({"amount": {}, "additionalInfo": {"caciTxId": "t"}}) == "debit_notify"


def test_backoff_grows_is_capped_and_honours_retry_after() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=8.0)
    assert 0.25 <= policy.delay(0) <= 0.5
    assert 4.0 <= policy.delay(10) <= 8.0
    assert policy.delay(0, retry_after=3.0) >= 3.0
