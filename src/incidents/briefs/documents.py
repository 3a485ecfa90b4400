"""A brief's documents: the data files (JSON, and a zip of CSV and Parquet per table) and the
HTML and PDF rendered from them with the brief's editorial state."""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import Any, Literal

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.briefs.models import briefs

Variant = Literal["html", "pdf", "json", "zip"]
VARIANTS: tuple[Variant, ...] = ("html", "pdf", "json", "zip")
# Each document's address under its brief, and its media type.
FILES = {"html": "brief.html", "pdf": "brief.pdf", "json": "data.json", "zip": "data.zip"}
MEDIA = {
    "html": "text/html",
    "pdf": "application/pdf",
    "json": "application/json",
    "zip": "application/zip",
}
COLUMN = {
    "html": briefs.c.html,
    "pdf": briefs.c.pdf,
    "json": briefs.c.data_json,
    "zip": briefs.c.data_zip,
}


def data_files(data: Any) -> tuple[bytes, bytes]:
    """(JSON, zip of one CSV and one Parquet per table): identical bytes for identical data.
    Status columns say which counts are in the band or withheld (never a bare blank)."""
    import polars as pl

    document = msgspec.json.encode(data, order="sorted")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in sorted(data.tables.items()):
            frame = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
            for extension in ("csv", "parquet"):
                content = io.BytesIO()
                if extension == "csv":
                    frame.with_columns(
                        [
                            pl.col(c).cast(pl.List(pl.String)).list.join(";")
                            for c, t in frame.schema.items()
                            if isinstance(t, pl.List)
                        ]
                    ).write_csv(content)
                else:
                    frame.write_parquet(content, compression="zstd", statistics=False)
                entry = zipfile.ZipInfo(f"{name}.{extension}", date_time=(1980, 1, 1, 0, 0, 0))
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, content.getvalue())
    return document, buffer.getvalue()


def documents(row: Any, data_json: bytes) -> dict[str, bytes]:
    """HTML and PDF from the stored figures and the brief's editorial state."""
    from incidents.briefs.render import chart_set, html, pdf
    from incidents.briefs.schemas import BriefData
    from incidents.briefs.wording import Editorial, view
    from incidents.briefs.words import Words

    data = msgspec.json.decode(data_json, type=BriefData)
    superseded = f"/api/v1/briefs/{row.superseded_by}/brief.html" if row.superseded_by else None
    editorial = Editorial(
        status=row.status,
        executive_summary=row.executive_summary,
        issuing_body=row.issuing_body,
        issued_on=row.issued_on,
        version=row.version,
        superseded_by=superseded,
        retraction_notice=row.retraction_notice,
        retracted_on=row.retracted_at.date() if row.retracted_at else None,
    )
    words = Words(data, row.parameters.get("language", "en"))
    page = view(words, editorial, row.data_hash)
    charts_svg = chart_set(words)
    return {"html": html(page, charts_svg).encode(), "pdf": pdf(page, charts_svg)}


async def store_documents(connection: AsyncConnection, brief_id: uuid.UUID) -> None:
    row = (await connection.execute(select(briefs).where(briefs.c.id == brief_id))).one()
    if row.data_json is None:
        return
    rendered = documents(row, bytes(row.data_json))
    await connection.execute(update(briefs).where(briefs.c.id == brief_id).values(**rendered))
