"""The web batch upload's store: a file kept server-side between its preview and its confirmation.

The bytes, their SHA-256, the mapping and the sheet are stored under a random id, owned by the
session that uploaded them (by its token's hash, so that signing out or revoking the key deletes
the upload with the session) and by its organization, and expire after `UPLOAD_LIFETIME`. The
confirmation names only the id: what is imported is what was previewed, never a client's path.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

import msgspec
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    Uuid,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.db import metadata
from incidents.errors import NotFound
from incidents.ids import new_id
from incidents.members.schemas import Principal

UPLOAD_LIFETIME = timedelta(hours=2)
Kind = Literal["table", "reports"]

web_uploads = Table(
    "web_uploads",
    metadata,
    Column("id", Uuid, primary_key=True, default=new_id),
    Column(
        "session_token_hash",
        LargeBinary(32),
        ForeignKey("web_sessions.token_hash", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "organization_id", Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    ),
    Column("filename", String(200), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("sha256", LargeBinary(32), nullable=False),
    Column("mapping", Text, nullable=True),
    Column("sheet", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("kind IN ('table', 'reports')", name="kind_known"),
    Index(None, "session_token_hash"),
    Index(None, "expires_at"),
)


class Upload(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    filename: str
    kind: Kind
    data: bytes
    sha256: bytes
    mapping: str | None
    sheet: str | None


def token_hash(token: str) -> bytes:
    """The same hash `web_sessions.token_hash` holds for the session's cookie token."""
    return hashlib.sha256(token.encode()).digest()


async def keep(
    connection: AsyncConnection,
    principal: Principal,
    session_token: str,
    *,
    filename: str,
    kind: Kind,
    data: bytes,
    mapping: str | None,
    sheet: str | None,
) -> uuid.UUID:
    """Store an upload for its preview; expired uploads are removed on the way."""
    now = datetime.now(UTC)
    await connection.execute(delete(web_uploads).where(web_uploads.c.expires_at < now))
    upload_id = new_id()
    await connection.execute(
        insert(web_uploads).values(
            id=upload_id,
            session_token_hash=token_hash(session_token),
            organization_id=principal.organization_id,
            filename=filename[:200],
            kind=kind,
            data=data,
            sha256=hashlib.sha256(data).digest(),
            mapping=mapping,
            sheet=sheet,
            expires_at=now + UPLOAD_LIFETIME,
        )
    )
    return upload_id


async def find(
    connection: AsyncConnection, principal: Principal, session_token: str, upload_id: uuid.UUID
) -> Upload:
    """The upload, if this session of this organization made it and it has not expired;
    otherwise NotFound (the same answer whether it exists or not)."""
    row = (
        await connection.execute(
            select(web_uploads).where(
                web_uploads.c.id == upload_id,
                web_uploads.c.organization_id == principal.organization_id,
                web_uploads.c.session_token_hash == token_hash(session_token),
                web_uploads.c.expires_at > datetime.now(UTC),
            )
        )
    ).first()
    if row is None or hashlib.sha256(row.data).digest() != row.sha256:
        raise NotFound("No such upload (it may have expired: upload the file again)")
    return Upload(
        id=row.id,
        filename=row.filename,
        kind=row.kind,
        data=row.data,
        sha256=row.sha256,
        mapping=row.mapping,
        sheet=row.sheet,
    )


async def forget(connection: AsyncConnection, upload_id: uuid.UUID) -> None:
    await connection.execute(delete(web_uploads).where(web_uploads.c.id == upload_id))
