"""Progress on stderr: one click progress bar per phase, or one line per phase in a log."""

from __future__ import annotations

import contextlib
import sys
from types import TracebackType
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    # The type click.progressbar returns; click itself names it only for type checkers.
    from click._termui_impl import ProgressBar

BAR_WIDTH = 30


class Progress:
    """Called with (phase label, done, total) as work advances: each phase gets its own bar,
    ended (on its own line) when it reaches its total or the next phase begins. Where stderr
    is no terminal, the bar is not drawn and each phase writes its final state as one line."""

    def __init__(self) -> None:
        self._label: str | None = None
        self._bar: ProgressBar[str | None] | None = None
        self._open = contextlib.ExitStack()

    def __call__(self, label: str, done: int, total: int) -> None:
        counts = f"{done:,}/{total:,}"
        bar = self._bar
        if bar is None or label != self._label:
            self.close()
            bar = self._begin(label, done, total, counts)
        bar.length = total
        if done > bar.pos:
            bar.update(done - bar.pos, counts)
        if done >= total:
            self.close()

    def _begin(self, label: str, done: int, total: int, counts: str) -> ProgressBar[str | None]:
        bar = click.progressbar(
            length=total,
            label=label,
            item_show_func=_counts,
            bar_template="%(label)s [%(bar)s] %(info)s",
            fill_char="#",
            empty_char=".",
            width=BAR_WIDTH,
            show_eta=False,
            show_percent=False,
            file=sys.stderr,
            hidden=not sys.stderr.isatty(),
        )
        # Set before entering, which draws the first frame: it shows where the phase stands.
        bar.pos, bar.current_item = done, counts
        self._bar, self._label = self._open.enter_context(bar), label
        return bar

    def close(self) -> None:
        """End the current phase's bar, if any (a phase can end short of its total)."""
        bar, self._bar, self._label = self._bar, None, None
        self._open.close()
        if bar is not None and bar.hidden:
            click.echo(bar.format_progress_line(), err=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _counts(counts: str | None) -> str | None:
    return counts
