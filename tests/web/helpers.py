"""Signing in as a browser would, for in-process page tests."""

from __future__ import annotations

import re

import httpx

_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, key: str, next_page: str = "/") -> httpx.Response:
    form = await client.get("/sign-in")
    answer = await client.post(
        "/sign-in",
        data={"api_key": key, "next": next_page, "_csrf_token": csrf_token(form.text)},
    )
    assert answer.status_code == 303, answer.text
    return answer
