"""Key sources: where the verifier finds the public key for a token's ``kid``."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Protocol

from joserfc.jwk import ECKey, OKPKey, RSAKey

type PublicKey = RSAKey | ECKey | OKPKey

DEV_ISSUER = "urn:blog-service:dev"


class KeySource(Protocol):
    @property
    def issuer(self) -> str: ...

    @property
    def generation(self) -> int:
        """Grows whenever the key set changes, so caches of verified tokens know to empty."""
        ...

    def get(self, kid: str) -> PublicKey | None:
        """The cached key with this id, or None. Never does I/O."""
        ...

    async def refresh_for(self, kid: str) -> bool:
        """A token named a key we do not know: refetch if allowed now; return whether it is known after."""
        ...

    async def start(self) -> None:
        """Make the keys available before the first request (read, generate or fetch them)."""
        ...

    async def close(self) -> None:
        """Release what ``start`` opened."""
        ...


class DevKeys:
    """A local RSA key pair under ``var/`` for development: generated on first use, kept 0600.

    ``just token`` signs with the private key; the dev server verifies with the public one.
    """

    def __init__(self, directory: Path) -> None:
        self._path = directory / "dev-jwt-key.json"
        self._private: RSAKey | None = None
        self._keys: dict[str, PublicKey] = {}

    @property
    def issuer(self) -> str:
        return DEV_ISSUER

    @property
    def generation(self) -> int:
        return 0  # a local key pair never changes while running

    def load(self) -> RSAKey:
        if self._private is None:
            if self._path.exists():
                private = RSAKey.import_key(json.loads(self._path.read_text()))
            else:
                private = RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"}, auto_kid=True)
                self._path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
                with os.fdopen(fd, "w") as file:
                    json.dump(private.as_dict(private=True), file)
            self._private = private
            public = RSAKey.import_key(private.as_dict(private=False))
            self._keys = {private.kid: public}  # type: ignore[dict-item]
        return self._private

    def get(self, kid: str) -> PublicKey | None:
        if self._private is None:
            self.load()
        return self._keys.get(kid)

    async def refresh_for(self, kid: str) -> bool:
        return False  # a local key pair has nothing to refetch

    async def start(self) -> None:
        self.load()

    async def close(self) -> None:
        pass
