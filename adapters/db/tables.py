"""Piccolo tables. Column names are the contract's field names so rows map 1:1 to entities."""

from __future__ import annotations

from piccolo.columns import (
    UUID,
    BigInt,
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table


class UserTable(Table, tablename="users"):  # "user" is reserved in PostgreSQL
    id = UUID(primary_key=True)
    username = Varchar(length=255)
    full_name = Varchar(length=255, null=True, default=None)
    email = Varchar(length=320, null=True, default=None)
    is_active = Boolean(default=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    synced_at_ms = BigInt(null=True, default=None)


class PostTable(Table, tablename="post"):
    id = UUID(primary_key=True)
    owner_id = ForeignKey(references=UserTable, on_delete=OnDelete.restrict, null=False)
    content = Text()
    created_at = Timestamptz()
    updated_at = Timestamptz(index=True)
    version = Integer(default=1)


class CommentTable(Table, tablename="comment"):
    id = UUID(primary_key=True)
    post_id = ForeignKey(references=PostTable, on_delete=OnDelete.cascade, null=False)
    owner_id = ForeignKey(references=UserTable, on_delete=OnDelete.restrict, null=False)
    content = Text()
    created_at = Timestamptz()
    updated_at = Timestamptz(index=True)
    version = Integer(default=1)


class ServiceContextTable(Table, tablename="service_context"):
    """A single row (id 1): the maintenance flag every instance reads."""

    id = Integer(primary_key=True)
    maintenance = Boolean(default=False)
    updated_at = Timestamptz()
    updated_by = UUID(null=True, default=None)


class OutboxTable(Table, tablename="relation_outbox"):
    """Relationship changes waiting for the relay (transactional outbox): written in the same
    transaction as the row they describe, delivered to OpenFGA afterwards, in ``id`` order per object.

    A row is pending while ``delivered_at`` is null. ``claimed_by`` names the relay that holds it
    until ``next_attempt_at`` (a lease); a failed attempt clears the claim and pushes
    ``next_attempt_at`` out (backoff). The object column is called ``object`` as in OpenFGA."""

    id = BigSerial(primary_key=True)
    op = Varchar(length=6)  # "write" | "delete"
    subject = Varchar(length=512)  # OpenFGA's "user", e.g. user:<uuid> ("user" is reserved in SQL)
    relation = Varchar(length=50)
    object = Varchar(length=256)
    created_at = Timestamptz()
    next_attempt_at = Timestamptz()
    attempts = Integer(default=0)
    claimed_by = Varchar(length=64, null=True, default=None)
    last_error = Text(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)


TABLES: list[type[Table]] = [UserTable, PostTable, CommentTable, ServiceContextTable, OutboxTable]
