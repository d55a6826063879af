"""In-memory fakes of the domain's ports, for fast unit tests of the use cases (no I/O).

``FakeDatabase`` holds tables (dicts by id). A unit of work works on a copy and
publishes it only on commit, so tests can prove that a use case that fails half-way leaves nothing
behind; outside a unit of work, calls see what is committed. Like the real repositories, the fakes
find the unit of work of the task they run in (a ContextVar), not through an argument.

``Fakes`` holds one of each port by type and builds a use case from its constructor's types, as
lagom does in the app: ``fakes[GetUser]``. A new resource binds its own in ``fakes.ports``,
usually ``FakeRepository(fakes.db, "tags")`` and ``FakeReader(fakes.db, "tags")``.
"""

from __future__ import annotations

import copy
import uuid
from collections import defaultdict
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self, get_type_hints

import msgspec

from domain.comments import Comment, CommentReader, CommentRepository
from domain.errors import Conflict
from domain.idempotency import Answer, KeyInFlight, Recorded
from domain.listing import Page, SortOrder, cursor_after, cursor_position
from domain.model import Principal
from domain.policy import GRANTS, kind_of
from domain.ports import Action, Authorizer, Clock, IdempotencyKeys, RelationChange, UnitOfWorkFactory
from domain.posts import Post, PostReader, PostRepository
from domain.service_context import ServiceContext, ServiceContextRepository
from domain.sharing import Editors, Group, GroupRepository, Membership, SharingRepository
from domain.users import User, UserRepository


@dataclass
class Tables:
    rows: defaultdict[str, dict[Any, Any]] = field(default_factory=lambda: defaultdict(dict))
    # region: openfga
    outbox: list[RelationChange] = field(default_factory=list)
    # endregion


class FakeDatabase:
    def __init__(self) -> None:
        self.committed = Tables()
        self._unit_of_work: ContextVar[Tables | None] = ContextVar(f"fake-database-{id(self)}", default=None)

    def __getitem__(self, table: str) -> dict[Any, Any]:
        """A table as committed: what a test looks at, or sets up."""
        return self.committed.rows[table]

    # region: openfga
    @property
    def outbox(self) -> list[RelationChange]:
        return self.committed.outbox

    # endregion

    def current(self) -> Tables:
        """The tables as the calling task sees them: its unit of work's copy, or what is committed."""
        return self._unit_of_work.get() or self.committed


class FakeRepository[T]:
    """Load and save by id over one table: what every resource's repository does. ``unique`` names
    the fields a unique index guards: a value another row holds is a ``Conflict``, as the database's."""

    def __init__(self, db: FakeDatabase, table: str, *, unique: Sequence[str] = ()) -> None:
        self.db = db
        self.table = table
        self.unique = tuple(unique)

    @property
    def rows(self) -> dict[uuid.UUID, T]:
        return self.db.current().rows[self.table]

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> T | None:
        return self.rows.get(item_id)

    async def add(self, item: Any) -> None:
        assert item.id not in self.rows, "primary key"
        self._check_unique(item)
        self.rows[item.id] = item

    async def update(self, item: Any) -> bool:
        current: Any = self.rows.get(item.id)
        if current is None or current.version != item.version - 1:
            return False
        self._check_unique(item)
        self.rows[item.id] = item
        return True

    def _check_unique(self, item: Any) -> None:
        for name in self.unique:
            value = getattr(item, name)
            others = (row for row in self.rows.values() if row.id != item.id)
            if value is not None and any(getattr(row, name) == value for row in others):
                raise Conflict(f"{self.table}: {name} {value!r} is taken")

    async def delete(self, item_id: uuid.UUID) -> None:
        self.rows.pop(item_id, None)


class FakeReader[T]:
    """A listing over one table, as the SQL does it: every filter the query sets (``from_date`` and
    ``to_date`` bound ``created_at``, any other is equality on the field of that name), sorted on
    ``sort_by`` then id, paged by offset or after a cursor's row, with the next page's cursor."""

    _NOT_FILTERS = frozenset({"sort_by", "order", "limit", "offset", "cursor"})

    def __init__(self, db: FakeDatabase, table: str) -> None:
        self.db = db
        self.table = table

    async def list(self, query: Any) -> Page[T]:
        filters = {
            k: v for k, v in msgspec.structs.asdict(query).items() if k not in self._NOT_FILTERS and v is not None
        }
        rows = [row for row in self.db.current().rows[self.table].values() if _matches(row, filters)]
        descending = query.order is SortOrder.desc
        key = lambda row: (getattr(row, query.sort_by.value), row.id)  # noqa: E731
        rows.sort(key=key, reverse=descending)
        start = query.offset or 0
        if (after := cursor_position(self.table, query)) is not None:
            start = sum(1 for row in rows if (key(row) >= after if descending else key(row) <= after))
        page = rows[start : start + query.limit]
        more = len(rows) > start + query.limit
        next_cursor = cursor_after(self.table, query, *key(page[-1])) if more else None
        return Page(page, len(rows), query.limit, query.offset or 0, next_cursor)


def _matches(row: Any, filters: dict[str, Any]) -> bool:
    for name, value in filters.items():
        if name == "from_date":
            if row.created_at < value:
                return False
        elif name == "to_date":
            if row.created_at > value:
                return False
        elif getattr(row, name) != value:
            return False
    return True


class FakeUsers(FakeRepository[User]):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db, "users")

    async def add_if_absent(self, user: User) -> User:
        return self.rows.setdefault(user.id, user)

    async def save(self, user: User) -> None:
        existing = self.rows.get(user.id)
        if existing is not None:
            user = msgspec.structs.replace(user, created_at=existing.created_at)
        self.rows[user.id] = user


# region: blog
class FakePosts(FakeRepository[Post]):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db, "posts")

    async def add(self, item: Post) -> None:
        assert item.owner_id in self.db.current().rows["users"], "owner must exist (foreign key)"
        await super().add(item)

    async def delete(self, item_id: uuid.UUID) -> None:
        await super().delete(item_id)
        rows = self.db.current().rows
        comments = rows["comments"]
        for comment_id in [c.id for c in comments.values() if c.post_id == item_id]:
            del comments[comment_id]  # ON DELETE CASCADE
        for table in ("post_editor", "post_editor_group"):
            for pair in [pair for pair in rows[table] if pair[0] == item_id]:
                del rows[table][pair]

    async def owner_of(self, post_id: uuid.UUID) -> uuid.UUID | None:
        post = self.rows.get(post_id)
        return post.owner_id if post is not None else None


class FakeSharing:
    """Shares as sets of (post, user) and (post, group) pairs: tables "post_editor", "post_editor_group"."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def _pairs(self, table: str) -> dict[tuple[uuid.UUID, uuid.UUID], bool]:
        return self.db.current().rows[table]

    async def add_user(self, post_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        assert user_id in self.db.current().rows["users"], "user must exist (foreign key)"
        return self._add("post_editor", (post_id, user_id))

    async def remove_user(self, post_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        return self._pairs("post_editor").pop((post_id, user_id), None) is not None

    async def add_group(self, post_id: uuid.UUID, group_id: uuid.UUID) -> bool:
        assert group_id in self.db.current().rows["groups"], "group must exist (foreign key)"
        return self._add("post_editor_group", (post_id, group_id))

    async def remove_group(self, post_id: uuid.UUID, group_id: uuid.UUID) -> bool:
        return self._pairs("post_editor_group").pop((post_id, group_id), None) is not None

    def _add(self, table: str, pair: tuple[uuid.UUID, uuid.UUID]) -> bool:
        """Like INSERT ... ON CONFLICT DO NOTHING RETURNING: whether a row was added."""
        pairs = self._pairs(table)
        added = pair not in pairs
        pairs[pair] = True
        return added

    async def editors(self, post_id: uuid.UUID) -> Editors:
        return Editors(
            users=sorted(user for post, user in self._pairs("post_editor") if post == post_id),
            groups=sorted(group for post, group in self._pairs("post_editor_group") if post == post_id),
        )

    async def is_editor(self, post_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        memberships = self.db.current().rows["memberships"]
        return (post_id, user_id) in self._pairs("post_editor") or any(
            post == post_id and (m := memberships.get((group, user_id))) is not None and m.active
            for post, group in self._pairs("post_editor_group")
        )


class FakeGroups:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def get(self, group_id: uuid.UUID, *, for_update: bool = False) -> Group | None:
        return self.db.current().rows["groups"].get(group_id)

    async def add_if_absent(self, group: Group) -> None:
        self.db.current().rows["groups"].setdefault(group.id, group)

    async def save(self, group: Group) -> None:
        self.db.current().rows["groups"][group.id] = group

    async def membership(self, group_id: uuid.UUID, user_id: uuid.UUID) -> Membership | None:
        return self.db.current().rows["memberships"].get((group_id, user_id))

    async def save_membership(self, membership: Membership) -> None:
        self.db.current().rows["memberships"][membership.group_id, membership.user_id] = membership

    async def end(self, group_id: uuid.UUID) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
        rows = self.db.current().rows
        members = sorted(
            user for (group, user), m in list(rows["memberships"].items()) if group == group_id and m.active
        )
        for pair in [pair for pair in rows["memberships"] if pair[0] == group_id]:
            del rows["memberships"][pair]
        posts = sorted(post for post, group in rows["post_editor_group"] if group == group_id)
        for post in posts:
            del rows["post_editor_group"][post, group_id]
        return members, posts


class FakeComments(FakeRepository[Comment]):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db, "comments")

    async def add(self, item: Comment) -> None:
        assert item.post_id in self.db.current().rows["posts"], "post must exist (foreign key)"
        assert item.owner_id in self.db.current().rows["users"], "owner must exist (foreign key)"
        await super().add(item)

    async def owners_on_post(self, post_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID]]:
        return [(c.id, c.owner_id) for c in self.rows.values() if c.post_id == post_id]


# endregion


class FakeServiceContext:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def get(self) -> ServiceContext | None:
        return self.db.current().rows["service_context"].get(1)

    async def save(self, context: ServiceContext) -> None:
        self.db.current().rows["service_context"][1] = context


@dataclass
class KeptKey:
    fingerprint: bytes
    expires_at: datetime
    answer: Answer | None = None  # set by keep(), in the same unit of work


class FakeIdempotencyKeys:
    """Keys by (caller, key) in the fake database, so they commit or vanish with the unit of work. A
    key taken by another unit of work still open is in flight, as the database's lock makes it."""

    TABLE = "idempotency_keys"

    def __init__(self, db: FakeDatabase, uow: FakeUnitOfWorkFactory) -> None:
        self.db = db
        self.uow = uow
        self._takers: dict[tuple[uuid.UUID, str], Tables] = {}  # the tables of the unit of work that took it

    async def take(
        self, caller_id: uuid.UUID, key: str, fingerprint: bytes, now: datetime, expires_at: datetime
    ) -> Recorded | None:
        tables = self.db.current()
        taker = self._takers.get((caller_id, key))
        if taker is not None and taker is not tables and any(u.active and u._staged is taker for u in self.uow.opened):
            raise KeyInFlight(f"a request with Idempotency-Key {key!r} is still running")
        kept = tables.rows[self.TABLE].get((caller_id, key))
        if kept is not None and kept.expires_at > now:
            assert kept.answer is not None, "a key commits with its answer"
            return Recorded(kept.fingerprint, kept.answer)
        tables.rows[self.TABLE][(caller_id, key)] = KeptKey(fingerprint, expires_at)
        self._takers[(caller_id, key)] = tables
        return None

    async def keep(self, caller_id: uuid.UUID, key: str, answer: Answer) -> None:
        self.db.current().rows[self.TABLE][(caller_id, key)].answer = answer


# region: openfga
class FakeOutbox:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def record(self, changes: Sequence[RelationChange]) -> None:
        self.db.current().outbox.extend(changes)


# endregion


class FakeUnitOfWork:
    def __init__(self, factory: FakeUnitOfWorkFactory) -> None:
        self._factory = factory
        # region: openfga
        self.outbox = FakeOutbox(factory.db)
        # endregion
        self.committed = False
        self.active = False  # inside its `async with` block

    async def __aenter__(self) -> Self:
        db = self._factory.db
        self._staged = copy.deepcopy(db.committed)
        self._token = db._unit_of_work.set(self._staged)
        self._factory.opened.append(self)
        self.active = True
        return self

    async def commit(self) -> None:
        assert self.active, "commit() outside the unit of work's block"
        if self._factory.fail_on_commit is not None:
            raise self._factory.fail_on_commit
        self._factory.db.committed = self._staged
        self.committed = True

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._factory.db._unit_of_work.reset(self._token)
        self.active = False


class FakeUnitOfWorkFactory:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.opened: list[FakeUnitOfWork] = []
        self.fail_on_commit: BaseException | None = None

    @property
    def writing(self) -> bool:
        """Whether a unit of work (a transaction, in the real adapter) is open now."""
        return any(u.active for u in self.opened)

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        self.current += timedelta(seconds=1)  # every call is a distinct instant
        return self.current


# region: blog
class OwnerAuthorizer:
    """The rules of domain.policy.GRANTS over the fake tables (the built-in authorizer's way), with a
    call log; ``remote`` says whether use cases must treat it as a network service (ask before the
    transaction). Without ``db``, only ownership counts."""

    def __init__(self, db: FakeDatabase | None = None, *, remote: bool = False) -> None:
        self.remote = remote
        self.db = db
        self.calls: list[tuple[uuid.UUID, Action, uuid.UUID]] = []

    async def is_allowed(self, principal: Principal, action: Action, resource: Post | Comment) -> bool:
        self.calls.append((principal.id, action, resource.id))
        grants = GRANTS.get((kind_of(resource), action), frozenset())
        if "owner" in grants and resource.owner_id == principal.id:
            return True
        if self.db is None:
            return False
        if "editor" in grants and isinstance(resource, Post):
            return await FakeSharing(self.db).is_editor(resource.id, principal.id)
        if "post_owner" in grants and isinstance(resource, Comment):
            return await FakePosts(self.db).owner_of(resource.post_id) == principal.id
        return False


# endregion


class Fakes:
    """One fake of each port, by type, over one ``FakeDatabase``."""

    def __init__(self) -> None:
        self.db = FakeDatabase()
        self.uow = FakeUnitOfWorkFactory(self.db)
        self.clock = FakeClock()
        # region: blog
        self.authorizer = OwnerAuthorizer(self.db)
        # endregion
        self.ports: dict[Any, Any] = {
            UnitOfWorkFactory: self.uow,
            Clock: self.clock,
            # region: blog
            Authorizer: self.authorizer,
            # endregion
            UserRepository: FakeUsers(self.db),
            # region: blog
            PostRepository: FakePosts(self.db),
            PostReader: FakeReader(self.db, "posts"),
            CommentRepository: FakeComments(self.db),
            CommentReader: FakeReader(self.db, "comments"),
            # endregion
            ServiceContextRepository: FakeServiceContext(self.db),
            # region: blog
            SharingRepository: FakeSharing(self.db),
            GroupRepository: FakeGroups(self.db),
            # endregion
            IdempotencyKeys: FakeIdempotencyKeys(self.db, self.uow),
        }

    def __getitem__[T](self, use_case: type[T]) -> T:
        """``use_case`` built with the port of each of its constructor's parameter types."""
        hints = get_type_hints(use_case.__init__)  # type: ignore[misc]
        return use_case(**{name: self.ports[hint] for name, hint in hints.items() if name != "return"})


def principal(name: str = "alice", *, admin: bool = False) -> Principal:
    return Principal(
        id=uuid.uuid5(uuid.NAMESPACE_DNS, name),
        username=name,
        full_name=name.title(),
        email=f"{name}@example.test",
        roles=frozenset({"admin"} if admin else set()),
        is_admin=admin,
    )
