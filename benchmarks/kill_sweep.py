"""Kill sweep: SIGKILL the commands that write at random moments, rerun them, compare with a clean run.

Why: the README and docs/cli.md ("The command line") promise that a crash or kill mid-run leaves a
state that a rerun completes and that nothing is lost; this sweep's figures are in
docs/throughput.md ("Killed mid-run, then rerun"). tests/test_extract_fault.py kills an extraction
once; this kills `videoad run` (extract -> detect -> events -> report), `extract` alone
(`--commands extract`; not in the default list, whose results predate it), `detect --save-model`
into a folder holding an older fit, `report` into a report of other scores and `plot` into a folder
of other scores' timelines, each N times after a delay drawn from a seeded RNG across the command's
clean duration (the whole process group: extraction's decode workers too), then reruns the same
command to completion in the same folder and compares everything it wrote with a clean run's:

- scores: segments.csv bytes, cells/times (HDF5) arrays and attributes, run.json without its
  timestamps and durations; events.csv / events.json bytes; feature files' arrays and attributes
  (not `created`), manifest.json without its times;
- models: models.json without durations, and the model files by what they score (`videoad.video.score`
  of the features with them, compared with the clean models' scores: their bytes carry fit
  timings and torch's serialization id);
- the report: index.html, events files, assets, timelines and event pictures (PNG) by their bytes,
  clips by their bytes or else their decoded frame count; the key files (videoad.output_keys)
  consistent: every entry's files there with the digest it records, and the same entries and keys
  as the clean run's;
- the set of files (no temporary `.*.<pid>-<id>.tmp`, `*.tmp`, `.partial`, write probe left) and
  the rerun's exit status (0).

A trial whose delay outlasts the command is counted as not killed. Every command runs with its
working folder set to the trial's own, outputs given relative to it, so each trial's paths are the
clean run's. Inputs: six synthetic 300-frame corridor videos (`videoad.synth`, seed 0), extracted
once by the clean `run`. About 10 minutes on two cores with the defaults:

    OMP_NUM_THREADS=1 MPLBACKEND=Agg .venv/bin/python benchmarks/kill_sweep.py --work /tmp/killsweep/sweep

Prints the table and writes benchmarks/results/kill_sweep.{json,md} (`--out` for another folder).

Random moments land mostly in the long stretches (decoding, the fit) and rarely in the instant
between two writes, where a kill leaves the states a rerun must mend. `--every-write FIRST:LAST[:STEP]`
kills instead just before each change to the file system in turn (benchmarks/_fault_at_write.py),
and with `--full-disk` fills the disk at each file written in turn and reruns with space; they write
kill_sweep_points.{json,md} and kill_sweep_full_disk.{json,md}:

    OMP_NUM_THREADS=1 MPLBACKEND=Agg .venv/bin/python benchmarks/kill_sweep.py --commands plot,report \
        --every-write 1:200
    OMP_NUM_THREADS=1 MPLBACKEND=Agg .venv/bin/python benchmarks/kill_sweep.py --commands plot,report,detect \
        --every-write 1:200 --full-disk
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
#: files every writer leaves by design: the lock (videoad.output_lock) and extraction's worker log
IGNORED = {".videoad-lock", ".extract-workers.log"}
#: key files (videoad.output_keys): checked for consistency rather than compared byte for byte
KEY_FILES = {".videoad-timeline-keys.json", ".videoad-event-keys.json"}
#: what a killed write may leave: an atomic write's temporary (extract.store.temp_path), a model's
#: `<file>.tmp` (detector.persistence), the models' staging folder, scores.writable_folder's probe
TEMPORARY = re.compile(r"^\..*\.\d+-[0-9a-f]+\.tmp$|\.tmp$|^\.partial$|^\.videoad-write-check-")
#: JSON keys that differ between two clean runs (clocks and durations), and the manifest's note of
#: a video a rerun reused rather than decoded again (`resumed`, docs/extract.md)
VOLATILE = {"created", "started", "updated", "timings", "timings_", "resumed"}
RERUN_TIMEOUT_S = 300


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "videoad", *args]


def env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(
        os.pathsep), "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def call(argv: list[str], cwd: Path, timeout: float = RERUN_TIMEOUT_S) -> tuple[int, str, float]:
    """Run to completion: (exit status, its output's last lines, seconds)."""
    t0 = time.perf_counter()
    p = subprocess.run(argv, cwd=cwd, env=env(), capture_output=True, text=True, timeout=timeout,
                       start_new_session=True)
    tail = "\n".join((p.stdout + p.stderr).strip().splitlines()[-4:])
    return p.returncode, tail, time.perf_counter() - t0


def killed_run(argv: list[str], cwd: Path, delay: float) -> bool:
    """Start `argv`, SIGKILL its process group after `delay` s; False where it ended before."""
    p = subprocess.Popen(argv, cwd=cwd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        p.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(p.pid, signal.SIGKILL)  # the command and its workers alike
    except ProcessLookupError:
        pass
    p.wait()
    time.sleep(0.2)  # orphaned workers notice their closed pipes
    return p.returncode == -signal.SIGKILL


# -- comparing a trial's outputs with the clean run's --

def files_of(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in IGNORED}


def temporaries(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if TEMPORARY.search(p.name))


def stable(x):
    """JSON without its clocks and durations."""
    if isinstance(x, dict):
        return {k: stable(v) for k, v in x.items()
                if k not in VOLATILE and not k.rstrip("_").endswith("seconds")}
    if isinstance(x, list):
        return [stable(v) for v in x]
    return x


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def h5_content(path: Path) -> dict:
    import h5py
    import numpy as np

    out = {}
    with h5py.File(path, "r") as f:
        out["attrs"] = {k: np.asarray(v).tolist() for k, v in f.attrs.items() if k != "created"}

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = (obj[()].tobytes(), obj.dtype.str, obj.shape,
                             {k: np.asarray(v).tolist() for k, v in obj.attrs.items()})
        f.visititems(visit)
    return out


def frame_count(path: Path) -> int | None:
    try:
        import av

        with av.open(str(path)) as c:
            return sum(1 for _ in c.decode(video=0))
    except Exception:  # noqa: BLE001 - a cut or empty file
        return None


def key_entries(path: Path) -> tuple[dict, list[str]]:
    """A key file's entries as (key, file names, what it keeps), and its inconsistencies: an entry
    naming a file that is not there or whose bytes are not the ones it recorded."""
    data = json.loads(path.read_text())
    table = next(v for k, v in data.items() if k != "format")
    bad = []
    for name, e in table.items():
        for f, digest in e["files"].items():
            p = path.parent / f
            if not p.is_file():
                bad.append(f"{path.name}: {name} names {f}, not there")
            elif sha(p) != digest:
                bad.append(f"{path.name}: {name}'s {f} is not the file it recorded")
    return {n: (e["key"], sorted(e["files"]), stable(e.get(next(k for k in e if k not in ("key", "files")))))
            for n, e in table.items()}, bad


def compare(ref: Path, got: Path) -> list[str]:
    """What differs between the clean run's outputs `ref` and a trial's `got` (empty: the same)."""
    diffs = []
    a, b = files_of(ref), files_of(got)
    left = temporaries(got)
    if left:
        diffs.append(f"temporaries left: {', '.join(left)}")
    missing, extra = sorted(set(a) - set(b)), sorted(set(b) - set(a) - set(left))
    if missing:
        diffs.append(f"missing: {', '.join(missing)}")
    if extra:
        diffs.append(f"extra: {', '.join(extra)}")
    for rel in sorted(set(a) & set(b)):
        x, y = a[rel], b[rel]
        name = x.name
        try:
            if name in KEY_FILES:
                (ex, _), (ey, bad) = key_entries(x), key_entries(y)
                diffs += bad
                if ex != ey:
                    diffs.append(f"{rel}: entries differ ({sorted(set(ex) ^ set(ey)) or 'keys or payloads'})")
            elif name.endswith(".json"):
                if stable(json.loads(x.read_text())) != stable(json.loads(y.read_text())):
                    diffs.append(f"{rel} differs")
            elif name.endswith(".h5"):
                if h5_content(x) != h5_content(y):
                    diffs.append(f"{rel}: arrays or attributes differ")
            elif name.endswith(".pt"):
                continue  # by what they score (`compare_models`): their bytes carry timings
            elif name.endswith((".mp4", ".webm")):
                if x.read_bytes() != y.read_bytes():
                    n, m = frame_count(x), frame_count(y)
                    if n != m:
                        diffs.append(f"{rel}: {m} frames decoded, {n} in the clean run's")
            elif x.read_bytes() != y.read_bytes():
                diffs.append(f"{rel} differs")
        except Exception as exc:  # noqa: BLE001 - a file that cannot be read is a finding, not a crash
            diffs.append(f"{rel}: unreadable ({type(exc).__name__}: {exc})")
    return diffs


_SCORED: dict[str, dict] = {}


def model_scores(features: Path, models: Path) -> dict:
    """Each video's clip scores and alarm line from `features` scored with the saved `models`."""
    from videoad.video import score

    s = score(features, models)
    return {v.video: (v.scores.tobytes(), v.threshold) for v in s}


def compare_models(features: Path, ref: Path, got: Path) -> list[str]:
    if not (ref / "models.json").is_file():
        return []
    key = str(ref)
    if key not in _SCORED:
        _SCORED[key] = model_scores(features, ref)
    try:
        mine = model_scores(features, got)
    except Exception as exc:  # noqa: BLE001
        return [f"{got.name}: --model fails ({type(exc).__name__}: {exc})"]
    if mine != _SCORED[key]:
        return [f"{got.name}: --model scores differ ({sorted(v for v in mine if mine[v] != _SCORED[key].get(v))})"]
    return []


# -- the sweep --

class Setup:
    """The inputs and the older outputs the commands rewrite, made once under `work`."""

    def __init__(self, work: Path):
        self.work = work
        self.inputs = work / "inputs"
        self.videos = self.inputs / "data" / "videos"

    def make(self) -> None:
        from videoad import synth

        if not self.videos.is_dir():
            synth.generate(self.inputs / "data", n_normal=2, seed=0)

    def commands(self) -> dict[str, dict]:
        """Per command: its arguments (outputs relative to the trial's folder), the folder it writes,
        a template made by `prepare` in an empty folder and copied into each trial first."""
        run_ref = self.work / "run" / "ref" / "out"
        features, scores = run_ref / "features", run_ref / "scores"
        older = self.work / "detect" / "template" / "det" / "scores"
        return {
            "run": dict(argv=["run", str(self.videos), "-o", "out"], output="out", prepare=[]),
            # extraction alone, into an empty store (`run` kills land mostly in its fit)
            "extract": dict(argv=["extract", str(self.videos), "-o", "feat", "-q", "--recursive"], output="feat", prepare=[]),
            # an older fit of the same features (another seed) is rewritten: models and scores
            "detect": dict(argv=["detect", str(features), "-o", "det/scores", "--save-model", "det/models",
                                 "--min-clips", "40"], output="det", features=features,
                           prepare=[["detect", str(features), "-o", "det/scores", "--save-model", "det/models",
                                     "--min-clips", "40", "--seed", "1"]]),
            # a report (timelines, events, clips) of that older fit is rewritten with the run's scores
            "report": dict(argv=["report", str(scores), "-o", "rep"], output="rep",
                           prepare=[["report", str(older), "-o", "rep"]]),
            "plot": dict(argv=["plot", str(scores), "-o", "plots"], output="plots",
                         prepare=[["plot", str(older), "-o", "plots"]]),
        }


def rerun(argv: list[str], spec: dict, ref: Path, folder: Path) -> tuple[int, str, list[str], str]:
    """The command rerun in `folder` to completion, its outputs compared with the clean run's in
    `ref`: (exit status, its last lines, what differs, the outcome)."""
    rc, tail, _ = call(argv, folder)
    diffs = compare(ref / spec["output"], folder / spec["output"]) if rc == 0 else []
    if rc == 0 and "features" in spec:
        diffs += compare_models(spec["features"], ref / spec["output"] / "models", folder / spec["output"] / "models")
    return rc, tail, diffs, ("rerun failed" if rc != 0 else "mismatch" if diffs else "ok")


def clean_run(name: str, spec: dict, base: Path) -> None:
    """The clean run every trial is compared with, in `base/ref` (made once)."""
    prepare(spec, base / "template")
    if not (base / "ref" / spec["output"]).exists():
        trial_folder(base / "ref", base / "template")
        rc, tail, _ = call(cli(*spec["argv"]), base / "ref")
        if rc != 0:  # not kept: the next sweep compared every trial with its half (an empty store)
            shutil.rmtree(base / "ref", ignore_errors=True)
            raise SystemExit(f"clean {name} exited {rc}:\n{tail}")


def prepare(spec: dict, folder: Path) -> None:
    if folder.is_dir():
        return
    folder.mkdir(parents=True)
    for argv in spec["prepare"]:
        rc, tail, _ = call(cli(*argv), folder)
        if rc != 0:
            raise SystemExit(f"preparing {folder}: {' '.join(argv)} exited {rc}:\n{tail}")


def trial_folder(base: Path, template: Path) -> Path:
    shutil.rmtree(base, ignore_errors=True)
    shutil.copytree(template, base, symlinks=True)
    return base


def sweep(name: str, spec: dict, base: Path, trials: int, rng: random.Random, keep: bool) -> dict:
    argv = cli(*spec["argv"])
    template, ref = base / "template", base / "ref"
    clean_run(name, spec, base)
    # the clean duration, measured again as the trials will see it (into the template's copy)
    control = trial_folder(base / "control", template)
    rc, tail, expected = call(argv, control)
    outcomes = [("control (no kill)", rc, tail, compare(ref / spec["output"], control / spec["output"]))]
    rows = []
    for i in range(trials):
        delay = round(rng.uniform(0.0, expected), 2)
        folder = trial_folder(base / f"trial-{i:02d}", template)
        hit = killed_run(argv, folder, delay)
        rc, tail, diffs, outcome = rerun(argv, spec, ref, folder)
        rows.append({"trial": i, "delay_s": delay, "killed": hit, "outcome": outcome, "rc": rc,
                     "message": tail if rc != 0 else "", "diffs": diffs})
        print(f"  {name} trial {i}: kill at {delay:.2f} s{'' if hit else ' (ended before)'}: {outcome}"
              + (f" (exit {rc}: {tail.splitlines()[-1] if tail else ''})" if rc != 0 else "")
              + (f": {'; '.join(diffs)}" if diffs else ""), flush=True)
        if outcome == "ok" and not keep:
            shutil.rmtree(folder, ignore_errors=True)
    control_ok = outcomes[0][1] == 0 and not outcomes[0][3]
    return {"command": "videoad " + " ".join(spec["argv"]), "expected_s": round(expected, 2), "control_ok": control_ok,
            "control_diffs": outcomes[0][3], "trials": rows}


def sweep_points(name: str, spec: dict, base: Path, first: int, last: int, keep: bool, full: bool = False,
                 step: int = 1) -> dict:
    """As `sweep`, killed instead just before each change to the file system in turn (the
    `first`th to the `last`th: `_fault_at_write.py`), until the command ends before its point.
    `full`: the disk fills at the Nth file written instead (ENOSPC from then on), and the command
    is rerun with space."""
    argv = cli(*spec["argv"])
    hook = [sys.executable, str(Path(__file__).resolve().parent / "_fault_at_write.py")]
    template, ref = base / "template", base / "ref"
    clean_run(name, spec, base)
    points = base / ("full-disk" if full else "points")
    rows = []
    for n in range(first, last + 1, step):
        folder = trial_folder(points / f"point-{n:03d}", template)
        log = folder.parent / f"point-{n:03d}.log"
        log.unlink(missing_ok=True)
        rc, tail, _ = call([*hook, f"full:{n}" if full else str(n), str(log), *spec["argv"]], folder)
        if not log.is_file():  # the command ended before its Nth point: all are tried
            shutil.rmtree(folder, ignore_errors=True)
            break
        what = log.read_text().strip()
        said = f"exit {rc}: {tail.splitlines()[-1] if tail else ''}" if full else ""
        rc, tail, diffs, outcome = rerun(argv, spec, ref, folder)
        rows.append({"trial": n, "point": what, "delay_s": 0.0, "killed": True, "outcome": outcome, "rc": rc,
                     "message": tail if rc != 0 else "", "diffs": diffs, "full_disk_said": said})
        print(f"  {name} {'full disk at' if full else 'point'} {n} ({what[:100]}){' ' + said[:160] if said else ''}: "
              f"{outcome}" + (f" (exit {rc}: {tail.splitlines()[-1] if tail else ''})" if rc != 0 else "")
              + (f": {'; '.join(diffs)}" if diffs else ""), flush=True)
        if outcome == "ok" and not keep:
            shutil.rmtree(folder, ignore_errors=True)
            log.unlink(missing_ok=True)
    return {"command": "videoad " + " ".join(spec["argv"]), "points": len(rows), "trials": rows}


def table(results: dict) -> list[str]:
    lines = ["| command | trials | killed mid-run | kill moments (s) | ok | mismatch | rerun failed |",
             "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        rows = r["trials"]
        moments = " ".join(f"{t['delay_s']:.1f}" + ("" if t["killed"] else "*") for t in rows)
        bad = [t for t in rows if t["outcome"] == "mismatch"]
        failed = [t for t in rows if t["outcome"] == "rerun failed"]
        say = lambda ts, key: "; ".join(f"#{t['trial']}: {key(t)}" for t in ts)  # noqa: E731
        lines.append(f"| {name} (clean {r['expected_s']:.1f} s{'' if r['control_ok'] else ', CONTROL DIFFERS'}) "
                     f"| {len(rows)} | {sum(t['killed'] for t in rows)} | {moments} "
                     f"| {sum(t['outcome'] == 'ok' for t in rows)} "
                     f"| {len(bad)}{': ' + say(bad, lambda t: ', '.join(t['diffs'])) if bad else ''} "
                     f"| {len(failed)}{': ' + say(failed, lambda t: t['message'].splitlines()[-1]) if failed else ''}"
                     " |")
    return lines


def points_table(results: dict, full: bool) -> list[str]:
    lines = [f"| command | {'files written' if full else 'points'} tried | ok | mismatch | rerun failed | "
             + ("what the run on a full disk said | " if full else "") + "not ok |",
             "|---|---|---|---|---|" + ("---|" if full else "") + "---|"]
    for name, r in results.items():
        rows = r["trials"]
        said = Counter(re.sub(r"(cannot write( to)?) \S+:", r"\1 <file>:", t["full_disk_said"]) for t in rows)
        said_text = "<br>".join(f"{text.replace('|', '/')} (x{n})" for text, n in sorted(said.items()))
        bad = "; ".join(f"#{t['trial']} ({t['point'][:80]}): " + (", ".join(t["diffs"])
                                                                  or t["message"].splitlines()[-1])
                        for t in rows if t["outcome"] != "ok")
        lines.append(f"| {name} | {len(rows)} | " + " | ".join(
            str(sum(t["outcome"] == o for t in rows)) for o in ("ok", "mismatch", "rerun failed"))
            + (f" | {said_text}" if full else "") + f" | {bad or '-'} |")
    return lines


def write_points(meter, results: dict, args, seconds: float) -> None:
    lines = points_table(results, args.full_disk)
    print("\n".join(lines))
    print(f"({seconds:.0f} s)")
    if args.full_disk:
        protocol = ("Each command is started in a copy of its starting folder with a disk that fills at its Nth "
                    "file opened to write (benchmarks/_fault_at_write.py `full:N`: that write stops halfway with "
                    "ENOSPC, and every later one; Python's writes only: PyAV's clips are written by FFmpeg), for "
                    "N = 1, 2, ... until the command writes fewer files; then it is rerun "
                    "with space in the same folder and compared with a clean run's outputs (as the kill sweep does).")
        name, title = "kill_sweep_full_disk", "Full disk mid-run, rerun with space, compare with a clean run"
    else:
        protocol = ("Each command is started in a copy of its starting folder and SIGKILLed (with its process "
                    "group) just before its Nth change to the file system (benchmarks/_fault_at_write.py: an open to "
                    "write, a rename, an unlink, a mkdir, ...), for N = FIRST, FIRST + STEP, ... until the command "
                    "ends first; then rerun to completion in the same folder and compared with a clean run's "
                    "outputs (as the kill sweep does).")
        name, title = "kill_sweep_points", "Kill before each write, rerun, compare with a clean run"
    notes = ["Commands (outputs relative to each trial's folder): " + "; ".join(
        f"`{r['command']}`" for r in results.values()), "", f"Total {seconds:.0f} s."]
    meter.write(name, title, protocol, lines, {"results": results, "seconds": round(seconds, 1)}, out=args.out,
                notes=notes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=10, help="kills per command")
    ap.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    ap.add_argument("--work", type=Path, default=Path("/tmp/killsweep/sweep"), help="scratch folder")
    ap.add_argument("--commands", default="run,detect,report,plot")
    ap.add_argument("--keep", action="store_true", help="keep the trials that matched too")
    ap.add_argument("--out", type=Path, help="results folder [default: benchmarks/results]")
    ap.add_argument("--every-write", metavar="FIRST:LAST[:STEP]",
                    help="kill before each (STEPth) change to the file system from the FIRSTth to the LASTth instead "
                         "of at random moments (benchmarks/_fault_at_write.py); results in kill_sweep_points.md")
    ap.add_argument("--full-disk", action="store_true",
                    help="with --every-write: the disk fills at each file written in turn (ENOSPC), then a rerun "
                         "with space; results in kill_sweep_full_disk.md")
    args = ap.parse_args()
    from _results import Run

    meter = Run()
    setup = Setup(args.work)
    setup.make()
    specs = setup.commands()
    names = [n.strip() for n in args.commands.split(",") if n.strip()]
    clean_run("run", specs["run"], args.work / "run")  # its features and scores are the others' inputs
    if "report" in names or "plot" in names:  # their older inputs: the detect template's scores
        prepare(specs["detect"], args.work / "detect" / "template")
    rng = random.Random(args.seed)
    results = {}
    t0 = time.perf_counter()
    if args.every_write:
        first, last, step = ([int(x) for x in args.every_write.split(":")] + [1])[:3]
        for name in names:
            results[name] = sweep_points(name, specs[name], args.work / name, first, last, args.keep,
                                         args.full_disk, step)
        write_points(meter, results, args, time.perf_counter() - t0)
        return
    for name in names:
        print(f"{name}: {specs[name]['argv'][0]} ...", flush=True)
        results[name] = sweep(name, specs[name], args.work / name, args.trials, rng, args.keep)
    seconds = time.perf_counter() - t0
    lines = table(results)
    print("\n".join(lines))
    print(f"({seconds:.0f} s; * = the command ended before its kill)")
    protocol = ("Each command is started in a copy of its starting folder (empty for run; an older fit, report "
                "or plot folder for the others), SIGKILLed with its process group after a delay drawn uniformly "
                "across its clean duration (seeded), then rerun to completion in the same folder; its outputs are "
                "compared with a clean run's (see the script's docstring for what is compared). A control run "
                "without a kill is compared the same way. Inputs: six synthetic 300-frame videos (videoad.synth, "
                "seed 0).")
    notes = ["Commands (outputs relative to each trial's folder): " + "; ".join(
        f"`{r['command']}`" for r in results.values()), "",
        "Kill moments marked * landed after the command had ended (not a kill).", "",
        f"Total {seconds:.0f} s."]
    meter.write("kill_sweep", "Kill sweep: SIGKILL mid-run, rerun, compare with a clean run", protocol, lines,
                {"results": results, "seconds": round(seconds, 1)}, out=args.out, notes=notes)


if __name__ == "__main__":
    main()
