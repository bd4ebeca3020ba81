"""The public OpenAPI document: valid 3.1, complete, and true to what the gateway answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from clearing_gateway.api.openapi import (
    ALL_HEADERS_REQUIRED,
    ERRORS,
    OPERATIONS,
    PRIVATE_PREFIXES,
    public_routes,
)
from clearing_gateway.kit.errors import ErrorCode
from tests.conftest import MerchantFixture

METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
async def document(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def conforms(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    """Validate `instance` against a schema of the document, its $refs resolved."""
    root = {**schema, "components": document["components"]}
    OAS31Validator(root).validate(instance)


async def test_document_is_valid_openapi_3_1_titled_as_the_seed(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "CACI Clearing Gateway API"
    assert document["info"]["version"] == "1.0.3"
    urls = [s["url"] for s in document["servers"]]
    assert sorted(urls) == ["/", "/d"]


async def test_every_route_is_documented_with_a_hand_picked_operation_id(
    app: FastAPI, document: dict[str, Any]
) -> None:
    documented = {key: op for key, op in operations(document)}
    missing_ids = []
    for method, path in public_routes(app):
        key = f"{method} {path}"
        assert key in documented, f"{key} is missing from /openapi.json"
        if key not in OPERATIONS:
            missing_ids.append(key)
        else:
            assert documented[key]["operationId"] == OPERATIONS[key].operation_id
    assert not missing_ids, (
        "routes without a hand-picked operationId; add an entry for each to OPERATIONS in "
        f"src/clearing_gateway/api/openapi.py: {missing_ids}"
    )
    ids = [op["operationId"] for _, op in operations(document)]
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    stale = set(OPERATIONS) - {f"{m} {p}" for m, p in public_routes(app)}
    # Simulator routes exist only outside production; everything else must be a route.
    assert stale == set(), f"OPERATIONS lists routes that do not exist: {sorted(stale)}"


async def test_private_surfaces_stay_out(document: dict[str, Any]) -> None:
    assert not [p for p in document["paths"] if p.startswith(PRIVATE_PREFIXES)]


async def test_one_security_requirement_with_all_three_headers(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert {(s["in"], s["name"]) for s in schemes.values()} == {
        ("header", "X-Api-Key"),
        ("header", "X-Signature"),
        ("header", "X-Timestamp"),
    }
    for key, op in operations(document):
        if key.startswith("GET /v1/") or (
            key.split()[1].startswith("/v1/") and "/simulator/" not in key
        ):
            assert op["security"] == ALL_HEADERS_REQUIRED, key
        if "/simulator/" in key:  # the seed lists no authorization; credentials optional
            assert op["security"] == [{}, *ALL_HEADERS_REQUIRED]


async def test_tags_are_the_seed_sections(document: dict[str, Any]) -> None:
    seed_sections = [
        "User Management",
        "Payment Instruments",
        "Virtual Accounts",
        "Withdrawals",
        "Deposits",
        "Balances",
        "Webhooks",
        "Payment Simulator",
    ]
    assert [t["name"] for t in document["tags"]][: len(seed_sections)] == seed_sections
    for key, op in operations(document):
        assert len(op["tags"]) == 1, key


async def test_errors_in_the_envelope_with_their_message_codes(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    documented_codes: set[str] = set()
    for spec in ERRORS.values():
        documented_codes |= set(schemas[spec.name]["properties"]["message"]["enum"])
    undocumented = {code.value for code in ErrorCode} - documented_codes
    assert not undocumented, (
        f"error codes missing from ERRORS in src/clearing_gateway/api/openapi.py: {undocumented}"
    )
    for key, op in operations(document):
        responses = op["responses"]
        assert "4XX" not in responses, key
        for status in ("404", "405", "429", "500"):
            assert status in responses, f"{key} lacks {status}"
        if "/v1/" in key and "/simulator/" not in key:
            assert {"401", "413"} <= set(responses), key
        assert "Allow" in responses["405"]["headers"]
        assert "Retry-After" in responses["429"]["headers"]
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                content = response["content"]["application/json"]
                conforms(document, content["schema"], content["example"])


async def test_examples_from_the_seed_match_the_schemas(document: dict[str, Any]) -> None:
    for key, op in operations(document):
        body = op.get("requestBody")
        if body is not None:
            content = body["content"]["application/json"]
            assert "example" in content, f"{key} has no request example"
            conforms(document, content["schema"], content["example"])
        if key.split()[1].startswith("/v1/"):
            success = next(r for s, r in op["responses"].items() if s.startswith("2"))
            content = success["content"]["application/json"]
            assert "example" in content, f"{key} has no response example"
            conforms(document, content["schema"], content["example"])
    create_user = document["paths"]["/v1/users"]["post"]
    sample = create_user["requestBody"]["content"]["application/json"]["example"]
    assert sample["requestId"] == "2dd96e87-4f8f-460e-a04d-040370505552"  # the seed's


async def test_no_generated_field_titles(document: dict[str, Any]) -> None:
    request = document["components"]["schemas"]["CreateUserRequest"]
    assert "title" not in request["properties"]["requestId"]
    assert "Requestid" not in str(document)
    assert request["properties"]["kycName"]["description"] == "Legal/KYC name"  # the seed's
    for key, op in operations(document):
        for parameter in op.get("parameters", []):
            assert "title" not in parameter["schema"], f"{key} {parameter['name']}"


async def test_webhooks_section_with_signature_headers(document: dict[str, Any]) -> None:
    hooks = document["webhooks"]
    assert set(hooks) == {"va_payment", "transfer", "qr_payment", "debit_notify"}
    for event_type, item in hooks.items():
        post = item["post"]
        headers = {p["name"] for p in post["parameters"] if p["in"] == "header"}
        assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= headers, event_type
        content = post["requestBody"]["content"]["application/json"]
        conforms(document, content["schema"], content["example"])
        info = content["example"]["additionalInfo"]
        assert "caciTxId" in info
    assert hooks["debit_notify"]["post"]["x-caci-addition"] is True


async def test_the_prefix_setting_lists_its_server_first(
    settings_overrides: dict[str, Any],
) -> None:
    from clearing_gateway.api.openapi import _servers

    assert [s["url"] for s in _servers("/d")] == ["/d", "/"]


async def test_real_error_answers_match_the_documented_schemas(
    http: httpx.AsyncClient, merchant: MerchantFixture, document: dict[str, Any]
) -> None:
    schemas = document["components"]["schemas"]

    def check(response: httpx.Response, status: int) -> None:
        assert response.status_code == status, response.text
        conforms(document, {"$ref": f"#/components/schemas/{ERRORS[status].name}"}, response.json())
        assert (
            response.json()["message"]
            in schemas[ERRORS[status].name]["properties"]["message"]["enum"]
        )

    check(await http.get("/v1/balances"), 401)
    check(await merchant.client.get("/v1/users/nobody"), 404)
    check(await merchant.client.request("PATCH", "/v1/balances"), 405)
    check(await merchant.client.post("/v1/users", raw="{"), 400)
    check(await merchant.client.post("/v1/users", {"requestId": "r-1"}), 422)
    big = '{"requestId":"' + "x" * 300_000 + '"}'
    check(await merchant.client.post("/v1/users", raw=big), 413)
