"""The tests' own signing key and a key source that knows it: tokens are minted here, by the
test, and verified by the app's real verifier."""

from __future__ import annotations

import time
import uuid
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

from adapters.auth.keys import PublicKey

TEST_ISSUER = "https://issuer.test/realms/test"


class TestKeys:
    __test__ = False  # not a test class, despite the name

    def __init__(self) -> None:
        self.private = RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"}, auto_kid=True)
        self.public: PublicKey = RSAKey.import_key(self.private.as_dict(private=False))

    # -- KeySource ----------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return TEST_ISSUER

    @property
    def generation(self) -> int:
        return 0

    def get(self, kid: str) -> PublicKey | None:
        return self.public if kid == self.private.kid else None

    async def refresh_for(self, kid: str) -> bool:
        return False

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    # -- minting ------------------------------------------------------------------------
    def mint(
        self,
        username: str = "alice",
        roles: tuple[str, ...] = (),
        *,
        sub: str | None = None,
        exp_in: int = 300,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": TEST_ISSUER,
            "sub": sub or str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{username}.test")),
            "aud": "account",
            "azp": "api",
            "typ": "Bearer",
            "iat": now,
            "exp": now + exp_in,
            "preferred_username": username,
            "name": username.title(),
            "email": f"{username}@example.test",
            "realm_access": {"roles": list(roles)},
            **claims,
        }
        return jwt.encode({"alg": "RS256", "kid": self.private.kid}, payload, self.private)

    def headers(self, username: str = "alice", roles: tuple[str, ...] = (), **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.mint(username, roles, **claims)}"}

    def user_id(self, username: str) -> uuid.UUID:
        return uuid.uuid5(uuid.NAMESPACE_DNS, f"{username}.test")
