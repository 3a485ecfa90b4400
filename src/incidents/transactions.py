"""A transaction that keeps what its work promised to do once it has committed."""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import AsyncIterator, Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.db import Database

AfterCommit = Callable[[], None]

# The promises of the transaction open on each connection. A connection is reused by the next
# transaction (and in tests by every request), so `transaction` takes its own list out whatever
# the outcome: nothing promised in one transaction is ever run by another.
_PROMISES: weakref.WeakKeyDictionary[AsyncConnection, list[AfterCommit]] = (
    weakref.WeakKeyDictionary()
)


def after_commit(connection: AsyncConnection, callback: AfterCommit) -> None:
    """Run ``callback`` once the transaction ``connection`` is in has committed; never when it
    rolls back. What must not happen before the data it depends on is visible to everyone (a
    cache dropped too early is filled again with what the commit is about to change) goes here.

    Only a transaction opened by `transaction` keeps such a promise; promising in any other is
    a mistake, refused rather than silently forgotten.
    """
    promises = _PROMISES.get(connection)
    if promises is None:
        raise RuntimeError("after_commit needs a transaction opened by incidents.transactions")
    promises.append(callback)


@contextlib.asynccontextmanager
async def transaction(database: Database) -> AsyncIterator[AsyncConnection]:
    """``database.transaction()``, then what its work promised with `after_commit`, in order.

    Opened inside another one on the same connection (a savepoint), its promises wait for the
    outer transaction's commit."""
    async with database.transaction() as connection:
        outer = _PROMISES.get(connection)
        _PROMISES[connection] = []
        try:
            yield connection
        finally:
            promised = _PROMISES.pop(connection, [])
            if outer is not None:
                _PROMISES[connection] = outer
    # Reached only when the commit succeeded: an error, or a failed commit, skips this.
    if outer is not None:
        outer.extend(promised)
        return
    for callback in promised:
        callback()
