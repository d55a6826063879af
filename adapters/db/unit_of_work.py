"""The unit of work: one transaction per use-case call.
# region: openfga
With OpenFGA, the outbox records in it too.
# endregion

On PostgreSQL the transaction is a ``BoundedTransaction`` (adapters/db/pool.py): the turn, BEGIN,
every statement and the COMMIT or ROLLBACK share one deadline, DB_REQUEST_TIMEOUT_MS. On SQLite
(development) it is Piccolo's, opened ``IMMEDIATE``.

The repositories and readers are not attributes of it: their statements join the transaction
through Piccolo's per-engine ContextVar (adapters/db/sql.py: ``fetch``), whichever instance sends
them. That is also why the transaction must be opened in the use case's own task and never in a
Litestar dependency: Litestar runs a dependency's set-up and clean-up in other contexts, so the
handler would not see the transaction and its clean-up would fail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Self

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType

from adapters.db.errors import as_unavailable
from adapters.db.pool import BoundedPool, BoundedTransaction
from domain.ports import Outbox, RelationChange

type Transaction = PostgresTransaction | SQLiteTransaction

log = logging.getLogger(__name__)


# region: openfga
class DiscardingOutbox:
    """Used when no external permission store is configured: the built-in authorizer reads the
    relationships straight from the rows, so there is nothing to relay."""

    async def record(self, changes: object) -> None:
        return None


class _RecordingOutbox:
    """The outbox as one unit of work sees it: it remembers whether anything was recorded, so the
    relay can be woken after the commit (woken before, it would find nothing committed yet)."""

    __slots__ = ("_outbox", "recorded")

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox
        self.recorded = False

    async def record(self, changes: Sequence[RelationChange]) -> None:
        await self._outbox.record(changes)
        self.recorded = self.recorded or bool(changes)


# endregion


class PiccoloUnitOfWork:
    __slots__ = (
        "_committed",
        "_factory",
        "_tx",
        # region: openfga
        "outbox",
        # endregion
    )

    def __init__(self, factory: PiccoloUnitOfWorkFactory) -> None:
        self._factory = factory
        self._tx: BoundedTransaction | Transaction | None = None
        self._committed = False
        # region: openfga
        self.outbox: Outbox = factory.outbox if factory.on_outbox_commit is None else _RecordingOutbox(factory.outbox)
        # endregion

    async def __aenter__(self) -> Self:
        engine = self._factory.engine
        if isinstance(engine, PostgresEngine) and isinstance(engine.pool, BoundedPool):
            try:
                self._tx = await BoundedTransaction.begin(engine, engine.pool)
            except Exception as exc:
                raise (as_unavailable(exc) or exc) from exc
            return self
        tx: Transaction = (
            engine.transaction(transaction_type=TransactionType.immediate)
            if isinstance(engine, SQLiteEngine)
            else engine.transaction()
        )
        try:
            await tx.__aenter__()
        except Exception as exc:
            await _give_back(engine, tx)
            raise (as_unavailable(exc) or exc) from exc
        self._tx = tx
        return self

    async def commit(self) -> None:
        if self._tx is None:
            raise RuntimeError("commit() outside the unit of work's block")
        await self._tx.commit()
        self._committed = True
        # region: openfga
        if isinstance(self.outbox, _RecordingOutbox) and self.outbox.recorded:
            self._factory.on_outbox_commit()  # type: ignore[misc]
        # endregion

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        tx, self._tx = self._tx, None
        if isinstance(tx, BoundedTransaction):
            try:
                await tx.close()
            except Exception as failed:  # not expected: closing cuts rather than fail; still a 503
                raise (as_unavailable(failed) or failed) from failed
        elif tx is not None:
            await self._close(tx)
        if exc is not None and (unavailable := as_unavailable(exc)) is not None:
            raise unavailable from exc

    async def _close(self, tx: Transaction) -> None:
        if not self._committed:
            try:
                await tx.rollback()  # type: ignore[no-untyped-call]
            except Exception:
                # The connection is gone (that is usually why we are rolling back); the server
                # has discarded the transaction already. Releasing the connection below drops it.
                log.warning("rollback failed; discarding the connection", exc_info=True)
            # Piccolo's __aexit__ commits unless it sees a rollback: make sure it never does.
            tx._rolled_back = True
        try:
            await tx.__aexit__(None, None, None)  # releases the connection, resets the ContextVar
        except Exception as exc:
            if (unavailable := as_unavailable(exc)) is not None:
                raise unavailable from exc
            raise


async def _give_back(engine: Engine, tx: Transaction) -> None:  # type: ignore[type-arg]
    """Release the connection of a transaction that failed to begin (e.g. SQLite "database is locked"
    at BEGIN IMMEDIATE). Piccolo keeps it otherwise: a pooled connection would never return to the
    pool, and an SQLite connection would keep its thread alive."""
    connection = getattr(tx, "connection", None)
    if connection is None:
        return
    try:
        if isinstance(engine, PostgresEngine) and engine.pool is not None:
            await engine.pool.release(connection)  # asyncpg resets it, or replaces it if it is broken
        else:
            await connection.close()
    except Exception:
        log.warning("could not release the connection of a transaction that failed to begin", exc_info=True)


class PiccoloUnitOfWorkFactory:
    """Holds the engine; each call makes a fresh unit of work.
    # region: openfga

    With OpenFGA, the outbox too; ``on_outbox_commit`` is called right after a commit that recorded
    outbox entries (the relay's wake-up).
    # endregion
    """

    def __init__(
        self,
        engine: Engine,  # type: ignore[type-arg]
        # region: openfga
        outbox: Outbox | None = None,
        on_outbox_commit: Callable[[], None] | None = None,
        # endregion
    ) -> None:
        self.engine = engine
        # region: openfga
        self.outbox: Outbox = outbox or DiscardingOutbox()
        self.on_outbox_commit = on_outbox_commit
        # endregion

    def __call__(self) -> PiccoloUnitOfWork:
        return PiccoloUnitOfWork(self)
