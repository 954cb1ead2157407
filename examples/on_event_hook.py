"""A receiver for `videoad watch --on-event`: each closed event becomes a row of a CSV file.

    videoad watch rtsp://cam/stream --model models/ -o live/ \\
        --on-event ".venv/bin/python examples/on_event_hook.py alerts.csv"

watch runs the command once per record (an event opening or closing, a gap, a scene cut, a view
none of the models' cameras show, a switch of camera or of activity level, a lost stream, an
unreadable file, a skipped file), with the record's JSON on standard input, from one worker
thread with a timeout (`--hook-timeout`): a slow receiver never holds up the scoring. This one
keeps the `close` records (the event is final: its end, peak and where in the frame) and ignores
the rest; a real one would page someone, post to a chat, or open a ticket. The fields are listed
in docs/video.md ("Outputs"). After a kill, the next watch into the same output sends first what
the killed one had not, the record whose call the kill cut short among them: that one may come
twice, alike (key on `id` and `type` where a second row matters; docs/video.md, "After a kill").
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

COLUMNS = ("id", "source", "video", "group", "start_at", "end_at", "duration_s", "peak_score", "threshold",
           "where", "image")


def main(out: Path) -> int:
    record = json.load(sys.stdin)
    if record.get("type") != "close":
        return 0
    new = not out.exists()
    with open(out, "a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow({k: record.get(k) for k in COLUMNS})
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: on_event_hook.py ALERTS.csv  (a record's JSON on standard input)")
    sys.exit(main(Path(sys.argv[1])))
