"""Whatever arrives as a bearer token, the verifier answers with a Principal or Unauthenticated."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.auth.tokens import JwtVerifier, TokenVerifierConfig
from domain.errors import Unauthenticated
from tests.support.tokens import TestKeys

keys = TestKeys()
verifier = JwtVerifier(keys, TokenVerifierConfig(audience="api"))
VALID = keys.mint("alice")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=6,
)


def segment(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


async def outcome(token: str) -> None:
    """A Principal, or Unauthenticated with a reason; any other exception fails the test (a 500)."""
    refused: Unauthenticated | None = None
    try:
        await verifier.verify(token)
    except Unauthenticated as exc:
        refused = exc
    assert refused is None or refused.detail


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
async def test_any_string(token):
    await outcome(token)


@settings(max_examples=200, deadline=None)
@given(json_values | st.fixed_dictionaries({"alg": json_values, "kid": json_values}), json_values)
async def test_any_header_and_payload_with_the_real_signature(header, payload):
    signature = VALID.rsplit(".", 1)[1]
    with pytest.raises(Unauthenticated):
        await verifier.verify(f"{segment(header)}.{segment(payload)}.{signature}")


@settings(max_examples=50, deadline=None)  # each example signs a token: RSA signing is the slow part
@given(st.dictionaries(st.sampled_from(["iss", "sub", "exp", "nbf", "iat", "typ", "aud", "azp"]), json_values))
async def test_any_claims_signed_by_the_real_key(changes):
    await outcome(keys.mint("alice", **changes))
