"""Per-token verification cost of JwtVerifier.verify(), keys fetched over HTTP from the stand-in issuer.

    uv run python -m tests.perf.bench_token_verification

Prints the best of 20 rounds of 1,000 calls (µs per call) of one token verified over and over
with the key source's cache warm, which is the hot path: no I/O, no key parsing (verify() keeps
no per-token cache, so a repeated token costs what a new one does). The floor, the signature
check alone (``cryptography``), is printed alongside. Not a test: timings are for people to read.
"""

from __future__ import annotations

import asyncio
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from adapters.auth.oidc import OidcKeySource
from adapters.auth.tokens import JwtVerifier, TokenVerifierConfig
from tests.support.oidc_issuer import OidcIssuer, _b64url_decode

ROUNDS, CALLS = 20, 1000


async def best_async(call, token: str) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(CALLS):
            await call(token)
        best = min(best, (time.perf_counter() - start) / CALLS)
    return best * 1e6


def best_sync(call) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(CALLS):
            call()
        best = min(best, (time.perf_counter() - start) / CALLS)
    return best * 1e6


async def measure(alg: str) -> None:
    with OidcIssuer(realm="demo", alg=alg) as issuer:
        keys = OidcKeySource(issuer.issuer)
        await keys.start()
        try:
            verifier = JwtVerifier(keys, TokenVerifierConfig(audience="api"))
            token = issuer.mint(roles=["admin"], client_roles=["editor"])
            await verifier.verify(token)
            hits = issuer.jwks_hits
            full = await best_async(verifier.verify, token)
            assert issuer.jwks_hits == hits, "the hot path fetched keys"
            signing_input, _, signature = token.rpartition(".")
            raw = _b64url_decode(signature)
            public = keys.get(issuer.signing_kid).public_key  # type: ignore[union-attr]
            if alg == "RS256":
                floor = best_sync(
                    lambda: public.verify(raw, signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
                )
            else:
                from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

                der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
                floor = best_sync(lambda: public.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256())))
            print(f"{alg}: verify() {full:7.1f} µs per token; signature alone {floor:7.1f} µs")
        finally:
            await keys.close()


async def main() -> None:
    for alg in ("RS256", "ES256"):
        await measure(alg)


if __name__ == "__main__":
    asyncio.run(main())
