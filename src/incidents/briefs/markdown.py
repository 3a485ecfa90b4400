"""The executive summary's Markdown as plain blocks of formatted runs, which the HTML and the
Typst templates both render (no raw HTML passes: the secretariat writes text, not markup)."""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

_parser = MarkdownIt("commonmark", {"html": False}).disable(["image", "html_inline", "html_block"])
_SAFE_LINKS = ("http://", "https://", "mailto:")

Run = dict[str, Any]
Block = dict[str, Any]


def blocks(text: str) -> list[Block]:
    """Paragraphs, headings and lists, each a list of runs {text, strong, emph, code, href}."""
    tokens = _parser.parse(text or "")
    found: list[Block] = []
    lists: list[Block] = []
    heading: int | None = None
    for token in tokens:
        if token.type in {"bullet_list_open", "ordered_list_open"}:
            block: Block = {
                "type": "list",
                "ordered": token.type == "ordered_list_open",
                "items": [],
            }
            if not lists:
                found.append(block)
            lists.append(block)
        elif token.type in {"bullet_list_close", "ordered_list_close"}:
            lists.pop()
        elif token.type == "heading_open":
            heading = int(token.tag[1])
        elif token.type == "inline":
            runs = _runs(token.children or [])
            if lists:
                # Nested lists are flattened into their outermost list.
                lists[0]["items"].append(runs)
            elif heading is not None:
                found.append({"type": "heading", "level": heading, "runs": runs})
            else:
                found.append({"type": "paragraph", "runs": runs})
        elif token.type == "heading_close":
            heading = None
        elif token.type in {"fence", "code_block"}:
            found.append({"type": "paragraph", "runs": [_run(token.content.rstrip(), code=True)]})
    return found


def _run(text: str, **style: Any) -> Run:
    return {
        "text": text,
        "strong": style.get("strong", False),
        "emph": style.get("emph", False),
        "code": style.get("code", False),
        "href": style.get("href"),
    }


def _runs(children: list[Token]) -> list[Run]:
    runs: list[Run] = []
    strong = emph = 0
    href: str | None = None
    for child in children:
        if child.type == "strong_open":
            strong += 1
        elif child.type == "strong_close":
            strong -= 1
        elif child.type == "em_open":
            emph += 1
        elif child.type == "em_close":
            emph -= 1
        elif child.type == "link_open":
            target = str(child.attrs.get("href", ""))
            href = target if target.startswith(_SAFE_LINKS) else None
        elif child.type == "link_close":
            href = None
        elif child.type == "text":
            runs.append(_run(child.content, strong=strong > 0, emph=emph > 0, href=href))
        elif child.type == "code_inline":
            runs.append(_run(child.content, code=True, href=href))
        elif child.type in {"softbreak", "hardbreak"}:
            runs.append(_run(" "))
    return runs
