"""In-memory fakes of the domain's ports, for fast unit tests of the use cases (no I/O).

The unit of work stages changes on a copy of the store and publishes them only on commit, so
tests can prove that a use case that fails half-way leaves nothing behind.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from domain.listing import ListQuery, SortOrder
from domain.model import Comment, Post, Principal, ServiceContext, User
from domain.ports import Action, RelationChange


@dataclass
class Store:
    users: dict[uuid.UUID, User] = field(default_factory=dict)
    posts: dict[uuid.UUID, Post] = field(default_factory=dict)
    comments: dict[uuid.UUID, Comment] = field(default_factory=dict)
    context: ServiceContext | None = None
    outbox: list[RelationChange] = field(default_factory=list)


class FakeUsers:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        return self.store.users.get(user_id)

    async def add_if_absent(self, user: User) -> User:
        return self.store.users.setdefault(user.id, user)

    async def save(self, user: User) -> None:
        existing = self.store.users.get(user.id)
        if existing is not None:
            user = User(**{**_fields(user), "created_at": existing.created_at})
        self.store.users[user.id] = user


class FakeContent:
    def __init__(self, items: dict[uuid.UUID, Any], store: Store) -> None:
        self.items = items
        self.store = store

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> Any:
        return self.items.get(item_id)

    async def add(self, item: Any) -> None:
        assert item.owner_id in self.store.users, "owner must exist (foreign key)"
        assert item.id not in self.items
        self.items[item.id] = item

    async def update(self, item: Any) -> bool:
        current = self.items.get(item.id)
        if current is None or current.version != item.version - 1:
            return False
        self.items[item.id] = item
        return True

    async def delete(self, item_id: uuid.UUID) -> None:
        self.items.pop(item_id, None)

    async def list(self, query: ListQuery) -> tuple[list[Any], int]:
        matching = [
            item
            for item in self.items.values()
            if (query.owner_id is None or item.owner_id == query.owner_id)
            and (query.post_id is None or getattr(item, "post_id", None) == query.post_id)
            and (query.from_date is None or item.created_at >= query.from_date)
            and (query.to_date is None or item.created_at <= query.to_date)
        ]
        matching.sort(key=lambda i: (getattr(i, query.sort_by.value), i.id), reverse=query.order is SortOrder.desc)
        return matching[query.offset : query.offset + query.limit], len(matching)


class FakePosts(FakeContent):
    async def delete(self, item_id: uuid.UUID) -> None:
        await super().delete(item_id)
        for comment_id in [c.id for c in self.store.comments.values() if c.post_id == item_id]:
            del self.store.comments[comment_id]  # ON DELETE CASCADE


class FakeComments(FakeContent):
    async def add(self, item: Any) -> None:
        assert item.post_id in self.store.posts, "post must exist (foreign key)"
        await super().add(item)

    async def ids_of_post(self, post_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID]]:
        return [(c.id, c.owner_id) for c in self.store.comments.values() if c.post_id == post_id]


class FakeServiceContext:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self) -> ServiceContext | None:
        return self.store.context

    async def save(self, context: ServiceContext) -> None:
        self.store.context = context


class FakeOutbox:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def record(self, changes: Sequence[RelationChange]) -> None:
        self.store.outbox.extend(changes)


class FakeUnitOfWork:
    def __init__(self, factory: FakeUnitOfWorkFactory, read_only: bool) -> None:
        self._factory = factory
        self._read_only = read_only
        self.committed = False
        self.active = False  # inside its `async with` block

    async def __aenter__(self) -> Self:
        self._staged = self._factory.store if self._read_only else copy.deepcopy(self._factory.store)
        self.users = FakeUsers(self._staged)
        self.posts = FakePosts(self._staged.posts, self._staged)
        self.comments = FakeComments(self._staged.comments, self._staged)
        self.service_context = FakeServiceContext(self._staged)
        self.outbox = FakeOutbox(self._staged)
        self._factory.opened.append(self)
        self.active = True
        return self

    async def commit(self) -> None:
        assert not self._read_only, "read-only units of work cannot commit"
        if self._factory.fail_on_commit is not None:
            raise self._factory.fail_on_commit
        self._factory.store = self._staged
        self.committed = True

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.active = False


class FakeUnitOfWorkFactory:
    def __init__(self, store: Store | None = None) -> None:
        self.store = store or Store()
        self.opened: list[FakeUnitOfWork] = []
        self.fail_on_commit: BaseException | None = None

    @property
    def writing(self) -> bool:
        """Whether a read-write unit of work (a transaction, in the real adapter) is open now."""
        return any(u.active and not u._read_only for u in self.opened)

    def __call__(self, *, read_only: bool = False) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, read_only)


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        self.current += timedelta(seconds=1)  # every call is a distinct instant
        return self.current


class OwnerAuthorizer:
    """The relationship rule of the model (owner may update and delete), with a call log; ``remote``
    says whether use cases must treat it as a network service (ask before the transaction)."""

    def __init__(self, *, remote: bool = False) -> None:
        self.remote = remote
        self.calls: list[tuple[uuid.UUID, Action, uuid.UUID]] = []

    async def is_allowed(self, principal: Principal, action: Action, resource: Post | Comment) -> bool:
        self.calls.append((principal.id, action, resource.id))
        return resource.owner_id == principal.id


def principal(name: str = "alice", *, admin: bool = False) -> Principal:
    return Principal(
        id=uuid.uuid5(uuid.NAMESPACE_DNS, name),
        username=name,
        full_name=name.title(),
        email=f"{name}@example.test",
        roles=frozenset({"admin"} if admin else set()),
        is_admin=admin,
    )


def _fields(struct: Any) -> dict[str, Any]:
    return {name: getattr(struct, name) for name in struct.__struct_fields__}
