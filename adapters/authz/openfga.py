"""OpenFGA over openfga-sdk's async client: the client's lifetime, the authorizer (check) and the
tuple writer the outbox relay delivers with.

Every call is bounded by ``OPENFGA_TIMEOUT_MS`` as a whole (the SDK's own timeout is per HTTP attempt,
and it retries 5xx/429 on its own), and every way OpenFGA can fail to answer — refused, reset, timed
out, 5xx, rate-limited, refused our credentials — becomes ``DependencyUnavailable("openfga")``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from openfga_sdk.client import ClientCheckRequest, ClientConfiguration, OpenFgaClient
from openfga_sdk.client.models import (
    ClientTuple,
    ClientWriteRequest,
    ClientWriteRequestOnDuplicateWrites,
    ClientWriteRequestOnMissingDeletes,
    ConflictOptions,
)
from openfga_sdk.configuration import RetryParams
from openfga_sdk.credentials import CredentialConfiguration, Credentials
from openfga_sdk.exceptions import OpenApiException, ValidationException

from domain.comments import Comment
from domain.errors import DependencyUnavailable
from domain.model import Principal
from domain.ports import Action, RelationChange
from domain.posts import Post

log = logging.getLogger(__name__)

DEPENDENCY = "openfga"

# The error an OpenFGA older than 1.10 (which ignores on_duplicate/on_missing) answers when a write
# or delete has already happened: for a relay that may deliver twice, that is success.
_ALREADY_APPLIED_CODE = "write_failed_due_to_invalid_input"
_ALREADY_APPLIED_TEXT = ("cannot write a tuple which already exists", "cannot delete a tuple which does not exist")

_UNAVAILABLE: tuple[type[BaseException], ...] = (OpenApiException, aiohttp.ClientError, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class OpenFgaConfig:
    api_url: str
    store_id: str
    model_id: str
    api_token: str | None
    timeout_ms: int
    # Retries of 5xx/429 inside one bounded call. Checks sit on the request path: one quick retry.
    check_retries: int = 1


class OpenFga:
    """One long-lived ``OpenFgaClient`` (an aiohttp session with its connection pool), opened at
    start-up inside the event loop and closed at shutdown; shared by the authorizer and the relay."""

    def __init__(self, config: OpenFgaConfig) -> None:
        self.config = config
        self._timeout = config.timeout_ms / 1000
        self._client: OpenFgaClient | None = None

    async def open(self) -> None:
        if self._client is not None:
            return
        credentials = (
            Credentials(method="api_token", configuration=CredentialConfiguration(api_token=self.config.api_token))
            if self.config.api_token
            else None
        )
        self._client = OpenFgaClient(
            ClientConfiguration(
                api_url=self.config.api_url,
                store_id=self.config.store_id,
                authorization_model_id=self.config.model_id,
                credentials=credentials,
                timeout_millisec=self.config.timeout_ms,
                retry_params=RetryParams(max_retry=self.config.check_retries, min_wait_in_ms=50),  # type: ignore[no-untyped-call]
            )
        )

    def use_model(self, model_id: str) -> None:
        """Check and write against another authorization model from now on (a new model version
        published while running: OPENFGA_MODEL_ID is a live setting)."""
        self.config = replace(self.config, model_id=model_id)
        if self._client is not None:
            self._client.set_authorization_model_id(model_id)  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()  # type: ignore[no-untyped-call]

    @property
    def client(self) -> OpenFgaClient:
        if self._client is None:
            raise DependencyUnavailable(DEPENDENCY, "the permission service client is not started")
        return self._client

    async def bounded[T](self, call: Awaitable[T]) -> T:
        """Await ``call`` for at most the configured timeout; any failure to answer → DependencyUnavailable."""
        try:
            async with asyncio.timeout(self._timeout):
                return await call
        except ValidationException:
            raise  # a 400: the request was wrong, not the service down (callers decide)
        except _UNAVAILABLE as exc:
            raise DependencyUnavailable(DEPENDENCY, "the permission service did not answer in time; try again") from exc


def _client_tuple(change: RelationChange) -> ClientTuple:
    return ClientTuple(user=change.user, relation=change.relation, object=change.object)


# region: blog
class OpenFgaAuthorizer:
    """The ``Authorizer`` port over OpenFGA's check.

    The owner tuple (and a comment's ``post``) is sent as a contextual tuple, taken from the row the
    use case just loaded: a post created a moment ago is editable by its owner at once, whether or
    not the relay has delivered its tuple yet. Everything else (``editor``, a group's ``member``, the
    owner of a comment's post) comes from the tuples in OpenFGA, which the relay keeps in step.
    """

    remote = True  # a network call: asked before the write transaction opens (domain.ports.Authorizer)

    def __init__(self, fga: OpenFga) -> None:
        self._fga = fga

    async def is_allowed(self, principal: Principal, action: Action, resource: Post | Comment) -> bool:
        kind = "post" if isinstance(resource, Post) else "comment"
        owner = RelationChange.owner("write", resource.owner_id, kind, resource.id)
        context = [_client_tuple(owner)]
        if isinstance(resource, Comment):
            context.append(_client_tuple(RelationChange.comment_post("write", resource.id, resource.post_id)))
        request = ClientCheckRequest(
            user=f"user:{principal.id}", relation=action, object=owner.object, contextual_tuples=context
        )
        try:
            response = await self._fga.bounded(self._fga.client.check(request))
        except ValidationException as exc:
            # Our request is fixed by our code and the model: a 400 means they disagree (e.g. a wrong
            # OPENFGA_MODEL_ID). The caller cannot fix that; the operator can.
            log.error("OpenFGA refused a check: %s %s", exc.code, exc.error_message)
            raise DependencyUnavailable(DEPENDENCY, "the permission service refused the request") from exc
        return bool(response.allowed)


# endregion


class DeliveryRefused(Exception):
    """OpenFGA refused a write as invalid (HTTP 400). Retrying the same request will not help, but
    the same tuples sent one by one may: the relay then finds the one that is refused."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")


class OpenFgaTupleWriter:
    """Applies relationship changes in one OpenFGA write (a transaction on the server).

    Idempotent: it asks the server to ignore duplicate writes and missing deletes (OpenFGA ≥ 1.10),
    and treats the older servers' answer to those ("already exists" / "does not exist") as success.
    """

    _options: dict[str, Any] = {  # read-only; the SDK wants a plain dict
        "conflict": ConflictOptions(
            on_duplicate_writes=ClientWriteRequestOnDuplicateWrites.IGNORE,
            on_missing_deletes=ClientWriteRequestOnMissingDeletes.IGNORE,
        ),
        # The relay has its own backoff; retries inside a call would only hold its claim longer.
        "retry_params": RetryParams(max_retry=0),  # type: ignore[no-untyped-call]
    }

    def __init__(self, fga: OpenFga) -> None:
        self._fga = fga

    async def apply(self, changes: Sequence[RelationChange]) -> None:
        writes = [_client_tuple(c) for c in changes if c.op == "write"]
        deletes = [_client_tuple(c) for c in changes if c.op == "delete"]
        request = ClientWriteRequest(writes=writes or None, deletes=deletes or None)
        try:
            await self._fga.bounded(self._fga.client.write(request, self._options))
        except ValidationException as exc:
            code, message = exc.code or "", exc.error_message or str(exc)
            if len(changes) == 1 and code == _ALREADY_APPLIED_CODE and message.startswith(_ALREADY_APPLIED_TEXT):
                return
            raise DeliveryRefused(code, message) from exc
