"""Results files for the small timing scripts of benchmarks/ that used to print only.

`write(name, ...)` writes benchmarks/results/NAME.json and NAME.md: the command as run, the
date, the machine (cores, load average before and after the run) and the git commit, the
protocol, a Markdown table and the script's own figures. The load average is there because these
scripts run on shared machines: their seconds move with the load, the ratio of two ways measured
in the same run is what the docs quote.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def command() -> str:
    """The command line as a reader would type it from the repository root (the project's venvs)."""
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(ROOT)
    except ValueError:
        pass
    prefix = "".join(f"{k}={os.environ[k]} " for k in ("OMP_NUM_THREADS", "MPLBACKEND") if k in os.environ)
    venv = ".venv-full" if ".venv-full" in sys.executable else ".venv"
    return f"{prefix}{venv}/bin/python {script} {' '.join(shlex.quote(a) for a in sys.argv[1:])}".rstrip()


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


class Run:
    """Notes the load average when a measurement starts; `write` adds the load after it."""

    def __init__(self) -> None:
        self.load_before = os.getloadavg()
        self.started = time.strftime("%Y-%m-%d %H:%M")

    def write(self, name: str, title: str, protocol: str, table: list[str], data: dict,
              out: Path | None = None, notes: list[str] | None = None) -> Path:
        from videoad.bench.common import cpu_model  # the processor: fits repeat only on alike ones

        out = Path(out) if out else RESULTS
        out.mkdir(parents=True, exist_ok=True)
        meta = {"command": command(), "date": self.started, "commit": _commit(),
                "machine": f"{cpu_model()}, {os.cpu_count()} CPUs",
                "load_average_before": [round(v, 2) for v in self.load_before],
                "load_average_after": [round(v, 2) for v in os.getloadavg()]}
        (out / f"{name}.json").write_text(json.dumps({"meta": meta, "protocol": protocol, **data}, indent=1) + "\n")
        lines = [f"# {title}", "", protocol, "",
                 f"Command: `{meta['command']}` ({meta['date']}, commit {meta['commit']}; {meta['machine']}, "
                 f"load average {meta['load_average_before'][0]:.2f} before and {meta['load_average_after'][0]:.2f} "
                 "after: a shared machine, so the seconds move with the load; the ratio of the same run is the "
                 "figure to read).", "", *table]
        if notes:
            lines += ["", *notes]
        path = out / f"{name}.md"
        path.write_text("\n".join(lines) + "\n")
        print(f"wrote {path}")
        return path
