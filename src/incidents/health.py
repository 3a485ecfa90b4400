"""Liveness and readiness."""

from __future__ import annotations

from typing import Literal

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from sqlalchemy.exc import DBAPIError, OperationalError

from incidents.db import ping
from incidents.errors import ServiceUnavailable
from incidents.migrate import current_revision, head_revision
from incidents.openapi import problems


class Health(msgspec.Struct):
    status: Literal["ok"]


class Readiness(msgspec.Struct):
    status: Literal["ready"]
    migration: str


class HealthController(Controller):
    tags = ("Health",)

    @get("/health", operation_id="Health", summary="The process is alive", responses=problems())
    async def health(self) -> Health:
        return Health(status="ok")

    @get(
        "/ready",
        operation_id="Ready",
        summary="The database is reachable and fully migrated",
        responses=problems(503),
    )
    async def ready(self, state: State) -> Readiness:
        try:
            async with state.database.connect() as connection:
                await ping(connection)
                revision = await current_revision(connection)
        except (OSError, OperationalError, DBAPIError) as error:
            raise ServiceUnavailable(
                f"The database is unreachable: {type(error).__name__}"
            ) from None
        expected = head_revision()
        if revision != expected:
            raise ServiceUnavailable(
                f"The database is at migration {revision}, this service needs {expected}; "
                "run `incidents db upgrade`"
            )
        return Readiness(status="ready", migration=revision)
