"""What changed between two taxonomy versions, for a reviewer (`incidents taxonomy diff`)."""

from __future__ import annotations

from typing import Literal

import msgspec

from incidents.taxonomy.schemas import TaxonomyDocument


class Change(msgspec.Struct):
    kind: Literal["added", "retired", "relabelled", "redefined", "moved", "crosswalk"]
    dimension: str
    code: str
    detail: str


def diff(old: TaxonomyDocument, new: TaxonomyDocument) -> list[Change]:
    """What a reviewer needs to see between two versions."""
    changes: list[Change] = []
    old_dimensions = {dimension.name: dimension for dimension in old.dimensions}
    for dimension in new.dimensions:
        previous = old_dimensions.get(dimension.name)
        before = {entry.code: entry for entry in previous.codes} if previous else {}
        for entry in dimension.codes:
            was = before.get(entry.code)
            if was is None:
                changes.append(
                    Change("added", dimension.name, entry.code, entry.label.get("en", ""))
                )
                continue
            if entry.retired_in is not None and was.retired_in is None:
                changes.append(
                    Change(
                        "retired", dimension.name, entry.code, f"replaced by {entry.replaced_by}"
                    )
                )
            for language in sorted(set(entry.label) | set(was.label)):
                if entry.label.get(language) != was.label.get(language):
                    changes.append(
                        Change(
                            "relabelled",
                            dimension.name,
                            entry.code,
                            f"[{language}] {was.label.get(language)!r} -> "
                            f"{entry.label.get(language)!r}",
                        )
                    )
            if entry.definition != was.definition:
                changes.append(
                    Change("redefined", dimension.name, entry.code, "definition changed")
                )
            if entry.parent != was.parent:
                changes.append(
                    Change(
                        "moved",
                        dimension.name,
                        entry.code,
                        f"parent {was.parent} -> {entry.parent}",
                    )
                )
    return changes
