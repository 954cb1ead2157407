"""Ray benchmark: extraction throughput with 1 and with 2 local Ray workers, and their ratio.

    OMP_NUM_THREADS=1 RAY_USAGE_STATS_ENABLED=0 .venv/bin/python benchmarks/bench_ray.py

Workload: the shared videos (`../shared/data/videos`) and the two UCSD Ped2 test frame
folders, linked `--copies` times (as in bench_extract.py), through the `motion` backbone
(its optical flow runs in each actor's decode process, so the work spreads over actors).
A local Ray cluster with 2 CPUs is started once; each run extracts the whole workload into
a fresh store with `--ray-workers` 1, then 2 (1 CPU each), timed end to end from the call
(actors starting and building the backbone included) to the last file. A run of the local
runner with 1 decode worker, no Ray, gives Ray's overhead. The ratio 2 workers / 1 worker,
over 2, is the scaling efficiency the UCF-Crime estimate uses.

Ray runs its workers at niceness 15 by default, so on a machine shared with other jobs they
get only the CPU nobody else wants; the benchmark starts its cluster with
`RAY_worker_niceness=0` so that Ray workers and the local runner compete alike. The machine is
shared: the load average is recorded before and after. Results:
`benchmarks/results/ray.json` and `.md`.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extract.backbones import get_backbone  # noqa: E402
from extract.ray_runner import BackboneSpec, RayOptions, extract_on_ray  # noqa: E402
from extract.run import ExtractOptions, extract_videos  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
VIDEOS = ["tree.avi", "bikes.mp4", "vtest.avi"]
UCSD = ["01", "02"]
#: UCF-Crime: 1,900 videos, 859,635 complete 16-frame clips (train 790,271 + test 69,364, from
#: the annotation files' frame counts); its longest video (a normal training video) has 61,031
UCF_CLIPS = 859_635
UCF_LONGEST = 61_031
UCF_VIDEOS = 1_900
#: C3D on an idle 2-core CPU node (docs/backbones.md): clips/s of one node
C3D_NODE_CLIPS_S = 2.0


def ucf_hours(nodes: int, efficiency: float) -> float:
    """Wall hours for UCF-Crime on `nodes` 2-core C3D workers; a video never splits across
    workers, so no run is shorter than the longest video on one of them."""
    rate = C3D_NODE_CLIPS_S * (1 if nodes == 1 else nodes * efficiency)
    return round(max(UCF_CLIPS / rate, UCF_LONGEST / C3D_NODE_CLIPS_S) / 3600, 1)


def workload(root: Path, copies: int) -> Path:
    root.mkdir(parents=True)
    for copy in range(copies):
        for name in VIDEOS:
            (root / f"{copy}_{name}").symlink_to(SHARED / "videos" / name)
        for name in UCSD:
            (root / f"{copy}_ped2_{name}").symlink_to(
                SHARED / "ucsd_ped2" / "testing" / "frames" / name, target_is_directory=True)
    return root


class CpuMeter(threading.Thread):
    """CPU seconds used by this session's processes (this script, the Ray cluster, actors and
    decode processes) and by the whole machine, sampled from /proc every 0.2 s.

    On a shared machine the CPU a run gets, not the number of workers, sets its wall time;
    clips per CPU-second says whether a second worker costs extra work per clip."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sid, self.tick = os.getsid(0), os.sysconf("SC_CLK_TCK")
        self.seen: dict[tuple[int, str], int] = {}
        self.stop_event = threading.Event()

    def _sample(self) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == self.sid:  # fields[3]: session id; [11], [12]: utime, stime
                self.seen[(int(entry.name), fields[19])] = int(fields[11]) + int(fields[12])

    @staticmethod
    def _machine() -> tuple[int, int]:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]  # all, idle + iowait

    def run(self) -> None:
        while not self.stop_event.wait(0.2):
            self._sample()

    def __enter__(self) -> "CpuMeter":
        self._sample()
        self.before = dict(self.seen)
        self.machine_before = self._machine()
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_event.set()
        self.join()
        self._sample()
        used = sum(v - self.before.get(k, 0) for k, v in self.seen.items())
        self.cpu_s = used / self.tick
        total, idle = (a - b for a, b in zip(self._machine(), self.machine_before))
        self.machine_busy = 1 - idle / total if total else 0.0


def timed(run) -> dict:
    start = time.perf_counter()
    with CpuMeter() as meter:
        summary = run()
    wall = time.perf_counter() - start
    if not summary.ok or summary.skipped:
        raise RuntimeError(summary.report())
    return {"videos": len(summary.done), "clips": summary.clips, "wall_s": round(wall, 2),
            "clips_per_s": round(summary.clips / wall, 2),
            # extract_videos alone: without starting the first actor and stopping them all
            "run_s": round(summary.seconds, 2),
            "cpu_s": round(meter.cpu_s, 1), "cores_used": round(meter.cpu_s / wall, 2),
            "clips_per_cpu_s": round(summary.clips / meter.cpu_s, 2),
            "machine_busy": round(meter.machine_busy, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=6, help="times the workload is linked")
    parser.add_argument("--repeats", type=int, default=2, help="runs per setting (best kept)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    os.environ.setdefault("RAY_worker_niceness", "0")  # see the module docstring
    import ray

    spec = BackboneSpec("motion", {})
    options = ExtractOptions(workers=1, progress=False)
    load_before = os.getloadavg()
    runs: dict[str, list[dict]] = {"local_1_worker": [], "ray_1_worker": [], "ray_2_workers": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        videos = workload(tmp / "in", args.copies)
        start = time.perf_counter()
        ray.init(address="local", num_cpus=2, include_dashboard=False,
                 object_store_memory=256 * 2**20, logging_level="WARNING")
        cluster_start = time.perf_counter() - start
        try:
            for repeat in range(args.repeats):
                out = tmp / f"local{repeat}"
                runs["local_1_worker"].append(timed(lambda: extract_videos(
                    videos, out, get_backbone("motion"), options)))
                for n, name in ((1, "ray_1_worker"), (2, "ray_2_workers")):
                    out = tmp / f"{name}{repeat}"
                    runs[name].append(timed(lambda: extract_on_ray(
                        videos, out, spec, options, RayOptions(workers=n, cpus_per_worker=1))))
                for name in runs:
                    print(f"  run {repeat + 1} {name:14s} {runs[name][-1]}", flush=True)
        finally:
            ray.shutdown()
    best = {name: max(rs, key=lambda r: r["clips_per_s"]) for name, rs in runs.items()}
    ratio = best["ray_2_workers"]["clips_per_s"] / best["ray_1_worker"]["clips_per_s"]
    cores = best["ray_2_workers"]["cores_used"] / best["ray_1_worker"]["cores_used"]
    per_cpu = best["ray_2_workers"]["clips_per_cpu_s"] / best["ray_1_worker"]["clips_per_cpu_s"]
    # across nodes each worker brings its own cores, so what scales is the work per clip
    estimate = {nodes: {"linear": ucf_hours(nodes, 1.0), "measured": ucf_hours(nodes, min(per_cpu, 1.0))}
                for nodes in (1, 4, 8, 16, 64)}
    print(f"1 worker {best['ray_1_worker']['clips_per_s']} clips/s, 2 workers "
          f"{best['ray_2_workers']['clips_per_s']} clips/s: ratio {ratio:.2f} "
          f"(CPU used x{cores:.2f}, clips per CPU-second x{per_cpu:.2f})")
    results = {
        "command": "OMP_NUM_THREADS=1 RAY_USAGE_STATS_ENABLED=0 .venv/bin/python "
                   f"benchmarks/bench_ray.py --copies {args.copies} --repeats {args.repeats}",
        "date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(),
        "python": platform.python_version(), "ray": ray.__version__,
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "cluster_start_s": round(cluster_start, 2),
        "ray_worker_niceness": os.environ["RAY_worker_niceness"], "runs": runs,
        "best": {name: r["clips_per_s"] for name, r in best.items()},
        "ratio_2_over_1": round(ratio, 3), "cpu_used_2_over_1": round(cores, 3),
        "clips_per_cpu_s_2_over_1": round(per_cpu, 3),
        "ray_1_worker_over_local": round(best["ray_1_worker"]["clips_per_s"]
                                         / best["local_1_worker"]["clips_per_s"], 3),
        "ucf_crime_hours_c3d_cpu_nodes": estimate,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ray.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "ray.md").write_text(markdown(results))
    print(f"written {args.out / 'ray.json'} and ray.md")


def markdown(r: dict) -> str:
    rows = []
    for name, runs in r["runs"].items():
        for i, x in enumerate(runs, 1):
            rows.append(f"| {name} | {i} | {x['clips']} | {x['wall_s']} | {x['clips_per_s']} "
                        f"| {x['run_s']} | {x['cores_used']} | {x['clips_per_cpu_s']} "
                        f"| {x['machine_busy']:.0%} |")
    est = r["ucf_crime_hours_c3d_cpu_nodes"]
    return "\n".join([
        f"# Ray benchmark ({r['date']})", "", f"`{r['command']}`", "",
        f"{r['cpus']} CPUs, load average {r['load_average_before'][0]:.1f} before and "
        f"{r['load_average_after'][0]:.1f} after (a shared machine); Ray {r['ray']}; local "
        f"cluster of 2 CPUs started in {r['cluster_start_s']} s, worker niceness "
        f"{r['ray_worker_niceness']}. Backbone `motion` (defaults), 1 CPU and 1 decode process "
        "per Ray worker. Wall time is end to end (actor start-up, decoding, HDF5 writes); "
        "\"cores used\" is the CPU time of this session's processes (script, Ray, actors, decode "
        "processes) over the wall time; \"machine busy\" counts every user of the 2 cores.", "",
        "| run | repeat | clips | wall s | clips/s | s without actor start/stop | cores used "
        "| clips per CPU-s | machine busy |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows, "",
        f"Best runs: **2 workers / 1 worker = {r['ratio_2_over_1']}** in clips/s; CPU time "
        f"obtained x{r['cpu_used_2_over_1']}; clips per CPU-second x{r['clips_per_cpu_s_2_over_1']}. "
        f"Ray with 1 worker / local runner with 1 decode worker: {r['ray_1_worker_over_local']}.", "",
        "## UCF-Crime estimate (C3D, 2-core CPU workers)", "",
        f"{UCF_VIDEOS:,} videos, {UCF_CLIPS:,} clips; C3D on an idle 2-core CPU runs at about "
        f"{C3D_NODE_CLIPS_S} clips/s (docs/backbones.md): one worker with `--ray-cpus 2`. Hours of "
        "wall time with linear scaling, and with linear scaling times the measured clips per "
        "CPU-second ratio (capped at 1): on a cluster each worker brings its own cores, so what "
        "can be lost is work per clip. A video is never split, so no run is shorter than the "
        f"longest video ({UCF_LONGEST:,} clips) on one worker: "
        f"{UCF_LONGEST / C3D_NODE_CLIPS_S / 3600:.1f} h.", "",
        "| workers | hours, linear | hours, measured work per clip |", "|---|---|---|",
        *[f"| {n} | {h['linear']} | {h['measured']} |" for n, h in est.items()], "",
    ])


if __name__ == "__main__":
    main()
