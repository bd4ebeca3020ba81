"""Bad input always gets a clear error in the seed's envelope, never a 500 or a trace."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from tests.conftest import MerchantFixture

USERS = "/v1/users"


def assert_envelope(response: httpx.Response, status: int, message: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    envelope = response.json()
    assert envelope["code"] == status
    assert envelope["message"] == message
    assert isinstance(envelope["timestamp"], int)
    assert isinstance(envelope["reason"], str)
    assert envelope["reason"]
    assert "Traceback" not in response.text
    return envelope


async def send_raw(merchant: MerchantFixture, raw: bytes, path: str = USERS) -> httpx.Response:
    text = raw.decode("utf-8", errors="replace")
    headers = merchant.client.headers("POST", path, text)
    return await merchant.client.http.post(path, content=raw, headers=headers)


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"requestId": "x",}', b"not json at all", b"[1, 2", b'{"a": NaN'],
)
async def test_malformed_json(merchant: MerchantFixture, raw: bytes) -> None:
    assert_envelope(await send_raw(merchant, raw), 400, "MALFORMED_JSON")


async def test_bad_utf8(merchant: MerchantFixture) -> None:
    envelope = assert_envelope(
        await send_raw(merchant, b'{"kycName": "\xff\xfe"}'), 400, "MALFORMED_JSON"
    )
    assert "UTF-8" in str(envelope["reason"])


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"42", b"null"])
async def test_body_not_an_object(merchant: MerchantFixture, raw: bytes) -> None:
    envelope = assert_envelope(await send_raw(merchant, raw), 422, "VALIDATION_ERROR")
    assert str(envelope["reason"]).startswith("body")


async def test_empty_body(merchant: MerchantFixture) -> None:
    assert_envelope(await send_raw(merchant, b""), 422, "VALIDATION_ERROR")


async def test_oversize_body(merchant: MerchantFixture) -> None:
    big = json.dumps({"requestId": "r", "kycName": "x" * 300_000}).encode()
    assert_envelope(await send_raw(merchant, big), 413, "PAYLOAD_TOO_LARGE")


async def test_wrong_types(merchant: MerchantFixture) -> None:
    body = {"requestId": str(uuid.uuid4()), "userId": 123, "kycName": ["a"], "type": "retail"}
    envelope = assert_envelope(await merchant.client.post(USERS, body), 422, "VALIDATION_ERROR")
    assert str(envelope["reason"]).startswith("userId")


async def test_error_carries_request_id(merchant: MerchantFixture) -> None:
    body = {"requestId": "req-123", "userId": "u1", "kycName": "A", "type": "nope"}
    envelope = assert_envelope(await merchant.client.post(USERS, body), 422, "VALIDATION_ERROR")
    assert envelope["requestId"] == "req-123"


async def test_unknown_endpoint_is_404_envelope(merchant: MerchantFixture) -> None:
    assert_envelope(await merchant.client.get("/v1/nothing-here"), 404, "NOT_FOUND")


async def test_unknown_user_is_404(merchant: MerchantFixture) -> None:
    envelope = assert_envelope(await merchant.client.get(f"{USERS}/nobody"), 404, "NOT_FOUND")
    assert "nobody" in str(envelope["reason"])


async def test_wrong_method_is_405_envelope(merchant: MerchantFixture) -> None:
    assert_envelope(await merchant.client.put(USERS, {"requestId": "x"}), 405, "METHOD_NOT_ALLOWED")


async def test_405_names_every_allowed_method(merchant: MerchantFixture) -> None:
    response = await merchant.client.put(USERS, {"requestId": "x"})
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "POST"
    response = await merchant.client.post(f"{USERS}/someone", {"requestId": "x"})
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert allowed == {"GET", "PUT", "PATCH", "DELETE"}


async def test_bad_path_parameter(merchant: MerchantFixture) -> None:
    envelope = assert_envelope(
        await merchant.client.get(f"{USERS}/{'x' * 80}"), 422, "VALIDATION_ERROR"
    )
    assert str(envelope["reason"]).startswith("userId")


async def test_unauthenticated_garbage_is_401_not_500(http: httpx.AsyncClient) -> None:
    response = await http.post(USERS, content=b"\x00\x01garbage")
    assert_envelope(response, 401, "MISSING_CREDENTIALS")


async def test_secrets_never_reach_the_log(
    merchant: MerchantFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"requestId": str(uuid.uuid4()), "userId": "u-log", "kycName": "A", "type": "retail"}
    await merchant.client.post(USERS, body)
    raw = json.dumps(body)
    headers = merchant.client.headers("POST", USERS, raw)
    headers["X-Signature"] = "0" * 128
    await merchant.client.http.post(USERS, content=raw, headers=headers)
    output = capsys.readouterr().out
    assert '"request"' in output  # the access log did run
    assert merchant.credentials.api_secret not in output
    assert headers["X-Signature"] not in output
