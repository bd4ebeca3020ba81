"""Known-answer vectors for every provider signature scheme.

Expected values were computed outside this codebase: Topremit's with `openssl dgst`,
Finpay's with PHP 8.2 (`hash_hmac("sha512", json_encode($fields), $key)`), Finan's from
the formula printed in its docs (docs/providers/finan.md)."""

from __future__ import annotations

import json
import math
import random
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearing_gateway.providers.finan.signing import relative_path
from clearing_gateway.providers.finan.signing import signature as finan_signature
from clearing_gateway.providers.finpay.phpjson import PhpJsonError, php_json_encode
from clearing_gateway.providers.finpay.signing import (
    basic_authorization,
    notification_signature,
    signature_matches,
)
from clearing_gateway.providers.topremit.signing import (
    body_digest,
    minify,
    token_signature,
    transaction_signature,
)

TOPREMIT_BODY = (
    b'{"partnerServiceId":"   88899","trxId":"INV-1",'
    b'"totalAmount":{"value":"10000.00","currency":"IDR"}}'
)
TIMESTAMP = "2025-05-15T12:34:31+07:00"


def test_topremit_body_digest_is_lowercase_hex_sha256_of_minified_body() -> None:
    assert body_digest(TOPREMIT_BODY) == (
        "29914c0eee872ebeed14266de169c8438324bcd4b5e7e13e11117c19eab54c6b"
    )
    pretty = json.dumps(json.loads(TOPREMIT_BODY), indent=2).encode()
    assert body_digest(pretty) == body_digest(TOPREMIT_BODY)
    # SHA-256 of the empty string for an empty body.
    assert body_digest(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_minify_keeps_spaces_inside_strings_and_escaped_quotes() -> None:
    raw = b'{ "name" : "Setya  Wardana", "q" : "a \\" b" ,\n "n" : [ 1 , 2 ] }'
    assert minify(raw) == b'{"name":"Setya  Wardana","q":"a \\" b","n":[1,2]}'


def test_topremit_transaction_signature_base64_and_hex() -> None:
    args = ("secret-xyz", "POST", "/pg/snap/v1/transfer-va/create-va", "tok123", TOPREMIT_BODY)
    assert transaction_signature(*args, TIMESTAMP, "base64") == (
        "SSQwVMOJsh5XBXXD+Go1ejatz+kR5UqYNB9LL06JgkOUnc0Mt0VFjki5PGVVLHDuCSVLheTD+29uoeGVO+z2sg=="
    )
    assert transaction_signature(*args, TIMESTAMP, "hex") == (
        "49243054c389b21e570575c3f86a357a36adcfe911e54a98341f4b2f4e898243"
        "949dcd0cb745458e48b93c65552c70ee09254b85e4c3fb6f6ea1e1953becf6b2"
    )


def test_topremit_token_signature() -> None:
    assert token_signature("secret-xyz", "client-1", TIMESTAMP) == (
        "unRdQKQecYjgGF86ANsWJ9lUvy67hjOgq+EvpaG1YyI9BsFf/1LyBjFJrrm7wCeAXsv/TAI8M11CHxwb+N8Qog=="
    )


SEED_003_SAMPLE = {
    "amount": {"currency": "IDR", "value": "1000.00"},
    "originalReferenceNo": "20240921061636205623",
    "beneficiaryAccountNo": "500654309",
    "originalPartnerReferenceNo": "240921-9865405967",
    "latestTransactionStatus": "00",
    "beneficiaryAccountName": "Karman Prasasta",
    "beneficiaryBankCode": "91014",
    "transactionDate": "2024-09-21T06:16:37+07:00",
    "additionalInfo": {"notes": None},
}


def test_finpay_signature_of_the_seed_sample() -> None:
    expected = (
        "48953ab434e6c8d84524441aae042c7a52698abcd6826ffb9daf48c976c82603"
        "e92ea78c8e3929fc508a2d4a981469c660f89c22a4feca112b0f8596e1463c1d"
    )
    assert notification_signature(SEED_003_SAMPLE, "SoSecret123") == expected
    assert signature_matches(SEED_003_SAMPLE, "SoSecret123", expected.upper())
    assert not signature_matches(SEED_003_SAMPLE, "other-key", expected)


def test_php_json_encode_escaping_and_numbers() -> None:
    fields = {
        "name": "Zoë / Ñandú 😀",
        "url": "https://x.id/a/b",
        "fee": 2500.5,
        "rate": 0.1,
        "big": 1.0e25,
        "tiny": 0.00001,
        "whole": 10.0,
        "n": 7,
        "ok": True,
        "none": None,
        "list": [1, "é"],
    }
    encoded = php_json_encode(fields)
    assert encoded == (
        '{"name":"Zo\\u00eb \\/ \\u00d1and\\u00fa \\ud83d\\ude00","url":"https:\\/\\/x.id\\/a\\/b",'
        '"fee":2500.5,"rate":0.1,"big":1.0e+25,"tiny":1.0e-5,"whole":10,"n":7,"ok":true,'
        '"none":null,"list":[1,"\\u00e9"]}'
    )
    assert notification_signature(fields, "k€y") == (
        "17bb4f4dfac8e1b0a639afc29e663d07c36fe7ead99fe478608c09a7ec52194b"
        "f69217f442fc270b12170de8fec4038aae6ee0c19a35d80f8a982966fc931178"
    )


def test_php_json_encode_edge_cases() -> None:
    assert php_json_encode({}) == "[]"  # an empty PHP array
    assert php_json_encode("\x7f\x01\t") == '"\x7f\\u0001\\t"'
    assert php_json_encode(-0.0) == "-0"
    assert php_json_encode(1e16) == "10000000000000000"
    assert php_json_encode(1e17) == "1.0e+17"
    assert php_json_encode(0.0001) == "0.0001"
    with pytest.raises(PhpJsonError):
        php_json_encode(math.nan)


@pytest.mark.skipif(shutil.which("php") is None, reason="php-cli not installed")
def test_php_json_encode_matches_php_on_random_documents() -> None:
    rng = random.Random(4)
    floats = [rng.uniform(-1e6, 1e6) for _ in range(40)]
    floats += [rng.random() * 10 ** rng.randint(-12, 25) for _ in range(80)]
    document = {"f": floats, "s": 'a/b \u00e9 \U0001f600 \x7f \x01 "q" \\ 日本', "e": {}}
    php = subprocess.run(  # noqa: S603 (fixed argv, test input)
        [
            shutil.which("php") or "php",
            "-r",
            'echo json_encode(json_decode(file_get_contents("php://stdin"), true));',
        ],
        input=json.dumps(document).encode(),
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert php_json_encode(document) == php


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_php_float_encoding_round_trips(value: float) -> None:
    assert float(php_json_encode(value)) == value


def test_finpay_basic_auth_doc_example() -> None:
    assert basic_authorization("FINPAY770", "SoSecret123") == "Basic RklOUEFZNzcwOlNvU2VjcmV0MTIz"


@pytest.mark.parametrize(
    ("secret", "method", "path", "payload", "stamp", "expected"),
    [
        (
            "mySecretKey",
            "POST",
            "/api/v1/payments",
            '{"amount":6000000,"payment_method":"bank_transfer"}',
            "1699999999",
            "5cdb7759beeb3276b62b7eb12368b7e7e0cf20d55ef215ab0fce73298dac5f14",
        ),
        (
            "mySecretKey",
            "GET",
            "/api/v1/payments",
            "",
            "1699999999",
            "73c2f95458328a80e1aa7d4f7446d4a7cb7e541e543ac66797a79964f04e31bd",
        ),
        (
            "s3r3c_k3y",
            "POST",
            "/api/v1/transfer/verify-otp",
            '{"id":"7fc5e181-aae3-4021-8ce0-6a53aa71990d","pass_code":"1828288371923881984"}',
            "1724986946",
            "10366e5abe3a5ce0a012745a3549128e7a7fb76cc36c15def43c9073715a9466",
        ),
    ],
)
def test_finan_doc_vectors(
    secret: str, method: str, path: str, payload: str, stamp: str, expected: str
) -> None:
    assert finan_signature(secret, method, path, payload, stamp) == expected


def test_finan_signs_the_path_without_open_prefix() -> None:
    assert relative_path("/open/api/v1/master-bank-accounts?account_id=x") == (
        "/api/v1/master-bank-accounts?account_id=x"
    )
