"""Repeated anonymous reads answered from validators (304) and from the public facet cache: a
change to a public report shows on the very next read, and a change the public may not see
changes neither the validator nor the cache (nothing to learn from them, or from their timing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import msgspec

from incidents.reports.public_cache import PUBLIC_COUNTS
from incidents.taxonomy.files import read_directory
from tests.factories import Members
from tests.reports.helpers import file, file_accepted
from tests.taxonomy.helpers import make_version_2
from tests.web.helpers import sign_in


async def _again(client: httpx.AsyncClient, path: str, etag: str) -> httpx.Response:
    return await client.get(path, headers={"If-None-Match": etag})


async def _correct(
    client: httpx.AsyncClient, members: Members, ref: str, **changes: Any
) -> dict[str, Any]:
    current = await client.get(f"/api/v1/reports/{ref}", headers=members.regulator.headers)
    answer = await client.patch(
        f"/api/v1/reports/{ref}",
        json=changes,
        headers={**members.regulator.headers, "If-Match": current.headers["etag"]},
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _accept(client: httpx.AsyncClient, members: Members, ref: str) -> None:
    answer = await client.post(f"/api/v1/reports/{ref}/accept", headers=members.secretariat.headers)
    assert answer.status_code == 200, answer.text


async def _restricted_changes(client: httpx.AsyncClient, members: Members) -> None:
    """What the public may not see: filings at every level, a restricted report corrected,
    accepted and withdrawn, a member-only report accepted."""
    amber = (await file(client, members.regulator, sharing="TLP:AMBER", title="Amber"))["report"]
    await file(client, members.regulator, sharing="TLP:CLEAR", title="Clear, not yet accepted")
    await _correct(client, members, amber["ref"], title="Amber, corrected")
    await _accept(client, members, amber["ref"])
    await file_accepted(client, members, sharing="TLP:GREEN", title="Green, accepted")
    withdrawn = await client.post(
        f"/api/v1/reports/{amber['ref']}/withdraw",
        json={"reason": "Filed in error"},
        headers=members.regulator.headers,
    )
    assert withdrawn.status_code == 200, withdrawn.text


async def test_public_search_is_not_modified_until_a_public_report_changes(
    client: httpx.AsyncClient, members: Members
) -> None:
    public = await file_accepted(client, members, sharing="TLP:CLEAR", title="Gate failure")
    await client.get("/")  # a first visit: the CSRF cookie the page's forms carry is set
    first = await client.get("/search")
    assert first.status_code == 200
    assert "Gate failure" in first.text
    etag = first.headers["etag"]
    assert set(first.headers["cache-control"].split(", ")) == {"private", "no-cache"}
    repeated = await _again(client, "/search", etag)
    assert repeated.status_code == 304
    assert repeated.content == b""
    # Other addresses and languages have their own tags.
    other = await client.get("/search", params={"event_type": "hazard"})
    assert other.headers["etag"] != etag
    french = await client.get("/search", headers={"Accept-Language": "fr", "If-None-Match": etag})
    assert french.status_code == 200
    # Nothing the public may not see moves the tag.
    await _restricted_changes(client, members)
    assert (await _again(client, "/search", etag)).status_code == 304
    # A correction of the public report shows on the next read: it goes back to review (out
    # of the public's view) and, accepted again, is public with its new title.
    await _correct(client, members, public["ref"], title="Gate failure, corrected")
    in_review = await _again(client, "/search", etag)
    assert in_review.status_code == 200
    assert "Gate failure" not in in_review.text
    await _accept(client, members, public["ref"])
    corrected = await _again(client, "/search", in_review.headers["etag"])
    assert corrected.status_code == 200
    assert "Gate failure, corrected" in corrected.text
    # A change of its sharing level, accepted: it stays out of the public's search.
    await _correct(client, members, public["ref"], sharing="TLP:GREEN")
    await _accept(client, members, public["ref"])
    shared = await _again(client, "/search", corrected.headers["etag"])
    assert shared.status_code == 200
    assert "Gate failure" not in shared.text


async def test_a_withdrawn_public_report_is_gone_on_the_next_read(
    client: httpx.AsyncClient, members: Members
) -> None:
    public = await file_accepted(client, members, sharing="TLP:CLEAR", title="Withdrawn later")
    path = f"/reports/{public['ref']}"
    await client.get("/")
    first = await client.get(path)
    assert first.status_code == 200
    assert (await _again(client, path, first.headers["etag"])).status_code == 304
    withdrawn = await client.post(
        f"/api/v1/reports/{public['ref']}/withdraw",
        json={"reason": "Filed in error"},
        headers=members.regulator.headers,
    )
    assert withdrawn.status_code == 200
    gone = await _again(client, path, first.headers["etag"])
    assert gone.status_code == 404
    assert "etag" not in gone.headers
    # A tag made up or replayed on a record the public may not see gives nothing away: the
    # answer is the same 404 as for a report that does not exist.
    missing = await client.get("/reports/RPT-2026-999999")
    assert missing.status_code == 404
    assert "etag" not in missing.headers


async def test_signed_in_pages_are_never_validated(
    client: httpx.AsyncClient, members: Members
) -> None:
    await file_accepted(client, members, sharing="TLP:CLEAR", title="Seen by all")
    await client.get("/")
    anonymous = await client.get("/search")
    etag = anonymous.headers["etag"]
    await sign_in(client, members.researcher.key)
    signed_in = await _again(client, "/search", etag)
    assert signed_in.status_code == 200
    assert "etag" not in signed_in.headers
    assert "no-store" in signed_in.headers["cache-control"]


async def test_public_facet_counts_follow_public_changes_only(
    client: httpx.AsyncClient, members: Members
) -> None:
    public = await file_accepted(client, members, sharing="TLP:CLEAR", title="Counted")

    async def counted() -> int:
        answer = await client.get("/api/v1/reports", params={"facets": "status,sharing"})
        assert answer.status_code == 200
        return sum(value["count"] for value in answer.json()["facets"]["status"])

    before = await counted()
    assert before >= 1
    misses = PUBLIC_COUNTS.misses
    assert await counted() == before
    assert PUBLIC_COUNTS.misses == misses, "a repeated public read is answered from memory"
    # Changes the public may not see leave the cached answer in place: no miss (and so no
    # slower answer) that could tell an anonymous visitor anything happened.
    await _restricted_changes(client, members)
    assert await counted() == before
    assert PUBLIC_COUNTS.misses == misses
    # A public report leaving the public's view counts on the next read, as does a new one.
    await _correct(client, members, public["ref"], sharing="TLP:AMBER")
    assert await counted() == before - 1
    await _accept(client, members, public["ref"])
    assert await counted() == before - 1
    await file_accepted(client, members, sharing="TLP:CLEAR", title="Counted too")
    assert await counted() == before
    # A member's counts are never taken from the public's cache.
    member = await client.get(
        "/api/v1/reports", params={"facets": "sharing"}, headers=members.researcher.headers
    )
    levels = {value["value"] for value in member.json()["facets"]["sharing"]}
    assert "TLP:GREEN" in levels


async def test_a_new_taxonomy_version_changes_the_public_tag(
    client: httpx.AsyncClient, members: Members, tmp_path: Path
) -> None:
    # A page shows the current taxonomy's labels: a release must not be hidden behind a 304.
    public = await file_accepted(client, members, sharing="TLP:CLEAR", title="Labelled")
    path = f"/reports/{public['ref']}"
    await client.get("/")
    first = await client.get(path)
    etag = first.headers["etag"]
    assert (await _again(client, path, etag)).status_code == 304
    document = msgspec.to_builtins(read_directory(make_version_2(tmp_path / "v2")))
    released = await client.post(
        "/api/v1/taxonomy/versions", json=document, headers=members.secretariat.headers
    )
    assert released.status_code == 201, released.text
    after = await _again(client, path, etag)
    assert after.status_code == 200
    assert "Labelled" in after.text
    assert after.headers["etag"] != etag
    assert (await _again(client, path, after.headers["etag"])).status_code == 304
