from __future__ import annotations

import uuid

import pytest

from domain.errors import NotFound
from domain.model import user_id_from_subject
from domain.use_cases.users import GetCurrentUser, GetUser
from tests.fakes import Fakes, principal


async def test_me_creates_the_record_from_the_token_once():
    fakes = Fakes()
    alice = principal("alice")

    first = await fakes[GetCurrentUser](alice)
    second = await fakes[GetCurrentUser](alice)

    assert first == second
    assert (first.id, first.username, first.full_name, first.email, first.is_active) == (
        alice.id,
        "alice",
        "Alice",
        "alice@example.test",
        True,
    )
    assert sum(1 for u in fakes.uow.opened if u.committed) == 1, "only the first call writes"


async def test_get_user_by_id():
    fakes = Fakes()
    alice = await fakes[GetCurrentUser](principal("alice"))
    assert await fakes[GetUser](alice.id) == alice
    with pytest.raises(NotFound):
        await fakes[GetUser](uuid.uuid4())


def test_subject_to_user_id_is_stable_and_keeps_uuids():
    keycloak_sub = "1f0e2d3c-4b5a-4697-8877-665544332211"
    assert user_id_from_subject(keycloak_sub) == uuid.UUID(keycloak_sub)
    federated = "f:ldap:jdoe"
    assert user_id_from_subject(federated) == user_id_from_subject(federated)
    assert user_id_from_subject(federated) != user_id_from_subject("f:ldap:other")
