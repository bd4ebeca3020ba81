"""The gateway's verifier agrees with the seed's reference signer, byte for byte."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearing_gateway.merchants import signing
from clearing_gateway.merchants.auth import candidate_paths, client_address
from tests.support.seed_client import generate_signature

SECRET = "your_api_secret_here"


def test_seed_example_known_answer() -> None:
    body = {
        "requestId": "2dd96e87-4f8f-460e-a04d-040370505552",
        "userId": "567890",
        "kycName": "Jhon Doe",
        "phone": "+6281234567891",
        "email": "jhon.doe@icex.id",
        "type": "retail",
        "nationality": "ID",
        "whitelistedKycNames": ["Jhon", "Pg"],
    }
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"))
    expected = generate_signature("POST", "/d/v1/users", raw, 1763474667930, SECRET)
    ours = signing.sign("POST", "/d/v1/users", signing.canonical_body(raw), "1763474667930", SECRET)
    assert ours == expected
    # pinned (independently computed with the seed's function) so drift on either side shows
    assert ours == (
        "bf00e15d3940c776059493213ac1f518b81f4b10fc4cee71c2f7689d74b374b2"
        "3c41925ad64d98cb31c78bca9415257657cc69a54351e8dcda5fd81be1435894"
    )


# U+0000 and lone surrogates are refused before signing (kit/jsonguard.py).
storable_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | storable_text | st.floats(allow_nan=False),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(storable_text.filter(lambda t: len(t) <= 8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values, st.booleans())
def test_canonical_body_matches_seed_for_any_json(value: object, pretty: bool) -> None:
    raw = json.dumps(value, indent=2 if pretty else None, ensure_ascii=False)
    seed = generate_signature("POST", "/v1/x", raw, 1, SECRET)
    assert signing.sign("POST", "/v1/x", signing.canonical_body(raw), "1", SECRET) == seed


@pytest.mark.parametrize("raw", ["not json", "{broken", "", "   "])
def test_non_json_bodies_sign_raw(raw: str) -> None:
    seed = generate_signature("POST", "/v1/x", raw, 1, SECRET)
    assert signing.sign("POST", "/v1/x", signing.canonical_body(raw), "1", SECRET) == seed


def test_matches_is_case_insensitive_hex_and_rejects_garbage() -> None:
    good = signing.sign("GET", "/v1/x", "", "1", SECRET)
    kwargs = {
        "method": "GET",
        "paths": ["/v1/x"],
        "bodies": [""],
        "timestamp": "1",
        "secret": SECRET,
    }
    assert signing.matches(good.upper(), **kwargs)  # type: ignore[arg-type]
    assert not signing.matches("é" * 128, **kwargs)  # type: ignore[arg-type]
    assert not signing.matches("", **kwargs)  # type: ignore[arg-type]


def test_candidate_paths() -> None:
    assert candidate_paths("/v1/users", "") == ["/v1/users"]
    assert candidate_paths("/v1/users", "/d") == ["/v1/users", "/d/v1/users"]
    assert candidate_paths("/d/v1/users", "/d") == ["/d/v1/users", "/v1/users"]


def test_client_address() -> None:
    import ipaddress

    proxies = [ipaddress.ip_network("10.0.0.0/8")]
    assert client_address("1.2.3.4", "9.9.9.9", proxies) == "1.2.3.4"
    assert client_address("10.0.0.2", "9.9.9.9", proxies) == "9.9.9.9"
    assert client_address("10.0.0.2", "8.8.8.8, 9.9.9.9, 10.0.0.5", proxies) == "9.9.9.9"
    assert client_address("10.0.0.2", None, proxies) == "10.0.0.2"
