"""Progress where no one watches a terminal: a plain line now and then in place of a bar.

Redirected to a log (a nightly job, `nohup`, CI), a tqdm bar wrote one `\\r`-joined line per
update, so the commands show none there, and said nothing until their summary for hours.
`LogProgress` takes a bar's calls and writes `extract: 120/1900 videos, 6.3%, 41.0 clips/s,
about 2:10:00 left` at most once a `every` seconds (a minute: a ten-hour job logs some 600
lines, and the gap between two says whether it still moves; every N % stays silent for hours
where the first videos are long, and floods a log where a run is short). `console_bar` picks
it or tqdm's bar by whether standard error is a terminal.
"""
from __future__ import annotations

import sys
import time
from typing import Callable

#: seconds between two progress lines in a log
EVERY_S = 60.0


def _stderr_line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)  # sys.stderr of now: the console's wrapper once the CLI set it


def _clock_text(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class LogProgress:
    """A tqdm bar's calls (`total`, `update`, `refresh`, `set_postfix_str`, `set_description_str`,
    `close`, a `with` block) answered by a plain line at most once every `every` seconds.

    A description whose stage (its text before `:`) differs from the last one said (or is the first
    one set) is a new stage: its line is written at once and the count starts again (`run`: extract,
    then detect, then report).
    `every`: `EVERY_S` by default; `clock` and `write` are for tests (a fake clock; lines kept in a list).
    """

    disable = True  # no bar is drawn: a caller that then prints plainly (`run`'s notes) does so

    def __init__(self, total: float | None = 0, unit: str = "it", desc: str = "", *, every: float | None = None,
                 clock: Callable[[], float] = time.monotonic, write: Callable[[str], None] = _stderr_line,
                 **_tqdm_options) -> None:
        self.total, self.unit, self.desc = total or 0, unit, desc
        self.every = float(EVERY_S if every is None else every)
        self.clock, self.write = clock, write
        self.n, self.postfix = 0, ""
        self.started = self.said = clock()
        self.stage = None  # the stage last said: none yet, so the first one named is said (`run`'s "extract")

    def line(self) -> str:
        """The progress as one line: stage, count, share, the rate shown beside it, the time left."""
        parts = []
        if self.total:
            share = min(self.n / self.total, 1.0)
            parts.append(f"{self.n:.0f}/{self.total:.0f} {self.unit}s, {100 * share:.1f}%")
            elapsed = self.clock() - self.started
            if 0 < self.n < self.total and elapsed > 0:
                parts.append(f"about {_clock_text((self.total - self.n) * elapsed / self.n)} left")
        elif self.n:
            parts.append(f"{self.n:.0f} {self.unit}s")
        if self.postfix:
            parts.insert(1 if self.total else len(parts), self.postfix)
        return self.desc + (": " + ", ".join(parts) if parts else "")

    def _maybe_say(self, now: bool = False) -> None:
        t = self.clock()
        if now or t - self.said >= self.every:
            self.said = t
            self.write(self.line())

    def update(self, n: float = 1) -> None:
        self.n += n
        self._maybe_say()

    def refresh(self) -> None:
        self._maybe_say()

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        self.postfix = text  # shown with the next line: the count it goes with comes with an update

    def set_description_str(self, text: str = "", refresh: bool = True) -> None:
        stage = text.split(":")[0]
        new_stage, self.stage, self.desc = stage != self.stage, stage, text
        if new_stage:  # said at once, and counted from here
            self.n, self.total, self.postfix, self.started = 0, 0, "", self.clock()
        self._maybe_say(now=new_stage)

    def close(self) -> None:
        pass

    def __enter__(self) -> "LogProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def console_bar(*, quiet: bool = False, **tqdm_options):
    """tqdm's bar where standard error is a terminal, `LogProgress` where it is not (a log), a
    disabled tqdm with `quiet`; the options are tqdm's (`LogProgress` reads total, unit, desc)."""
    from tqdm import tqdm

    if quiet:
        return tqdm(disable=True, **tqdm_options)
    if sys.stderr.isatty():
        return tqdm(**tqdm_options)
    return LogProgress(**tqdm_options)
