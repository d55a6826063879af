"""Piccolo tables. Column names are the contract's field names so rows map 1:1 to entities."""

from __future__ import annotations

from piccolo.columns import (
    UUID,
    BigInt,
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


TABLES: list[type[Table]] = [UserTable, PostTable, CommentTable, ServiceContextTable]
