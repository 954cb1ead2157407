"""Extraction benchmark: decoders, pipeline against backbone alone, peak memory vs video length.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_extract.py

1. Decode throughput: frames/s of decord, PyAV and OpenCV decoding each shared video
   (`../shared/data/videos`) to RGB arrays, best of `--repeats`.
2. Pipeline / backbone alone: the real runner (`extract_videos`, 2 decode workers) over the
   shared videos and the two UCSD Ped2 frame folders, end to end (worker start-up and HDF5
   writes included), against the backbone's own `preprocess` + `forward_batch` timed on the
   same clips (decode time subtracted), in one process with OpenCV's default threads. A
   ratio near 1 means decoding hides behind compute. Then the cost of overlapping clips (stride
   4 against 16), with the backbone's per-frame stage and, as the baseline, without it.
3. Peak memory: a synthetic 320x240 video and one 10x longer, each extracted in a fresh
   process; peak RSS of the main process and of the largest decode worker.

Every ratio compares figures measured in the same run. The machine is shared, so the script
records the load average before and after; repeat when it was high. Results:
`benchmarks/results/extract.json` and `.md`.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extract.backbones import get_backbone  # noqa: E402
from extract.clips import ClipSpec, iter_clips  # noqa: E402
from extract.decode import open_image_folder, open_video  # noqa: E402
from extract.run import ExtractOptions, extract_videos  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
VIDEOS = ["tree.avi", "bikes.mp4", "vtest.avi"]
UCSD = ["01", "02"]


def decode_throughput(repeats: int) -> list[dict]:
    rows = []
    for name in VIDEOS:
        path = SHARED / "videos" / name
        for decoder in ("decord", "pyav", "opencv"):
            best, count = float("inf"), 0
            for _ in range(repeats):
                start = time.perf_counter()
                stream = open_video(path, (decoder,))
                count = sum(1 for _ in stream.frames)
                best = min(best, time.perf_counter() - start)
            rows.append({"video": name, "decoder": decoder, "frames": count,
                         "frames_per_s": round(count / best, 1)})
            print(f"  decode {name:10s} {decoder:7s} {count:4d} frames  {count / best:7.0f} frames/s",
                  flush=True)
    return rows


def workload(root: Path, copies: int) -> Path:
    """A folder linking the shared videos and UCSD frame folders `copies` times: one input for
    the runner, long enough that starting the workers is a small part of the time."""
    for copy in range(copies):
        for name in VIDEOS:
            (root / f"{copy}_{name}").symlink_to(SHARED / "videos" / name)
        for name in UCSD:
            (root / f"{copy}_ped2_{name}").symlink_to(
                SHARED / "ucsd_ped2" / "testing" / "frames" / name, target_is_directory=True)
    return root


class _TimedFrames:
    """Decoded frames, with the time spent decoding them counted (and later subtracted)."""

    def __init__(self, frames) -> None:
        self.frames, self.seconds, self.cpu = iter(frames), 0.0, 0.0

    def __iter__(self):
        return self

    def __next__(self):
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            return next(self.frames)
        finally:
            self.seconds += time.perf_counter() - start
            self.cpu += time.process_time() - start_cpu


def backbone_alone(backbone, root: Path, batch: int, stride: int | None = None, per_frame: bool = True) -> dict:
    """Clips/s of the backbone's work (clip cutting, preprocess, forward_batch; decode not timed),
    at the clip sampling the pipeline uses (the backbone's default stride unless one is given).

    per_frame: as the decode workers do it, `prepare_frame` once per frame and
    `preprocess_prepared` per clip; False: `preprocess` on each raw clip (every frame prepared
    again for each clip that holds it: the way before the per-frame stage, kept as the baseline).
    """
    spec = ExtractOptions(stride=stride).clip_spec(backbone)
    compute, cpu, clips, pending = 0.0, 0.0, 0, []
    for entry in sorted(root.iterdir()):
        stream = open_image_folder(entry) if entry.is_dir() else open_video(entry)
        frames = _TimedFrames(stream.frames)
        start, start_cpu = time.perf_counter(), time.process_time()
        if per_frame:
            cut = iter_clips(frames, spec, stream.fps, prepare=backbone.prepare_frame, keep_frames=False)
            work = (backbone.preprocess_prepared(clip.prepared) for clip in cut)
        else:
            work = (backbone.preprocess(clip.frames) for clip in iter_clips(frames, spec, stream.fps))
        for features in work:
            pending.append(features)
            if len(pending) == batch:
                backbone.forward_batch(np.stack(pending))
                pending = []
            clips += 1
        compute += time.perf_counter() - start - frames.seconds
        cpu += time.process_time() - start_cpu - frames.cpu
    if pending:
        start = time.perf_counter()
        backbone.forward_batch(np.stack(pending))
        compute += time.perf_counter() - start
    return {"clips": clips, "stride": spec.stride, "per_frame": per_frame, "seconds": round(compute, 3),
            "clips_per_s": round(clips / compute, 2), "cpu_ms_per_clip": round(cpu / clips * 1000, 1)}


def overlap_cost(name: str, opts: dict, root: Path, batch: int, repeats: int) -> dict:
    """Seconds of backbone work per second of video at stride 16 and at stride 4 (fresh
    backbones, so no cache is shared between the arms): what overlapping clips cost, with the
    per-frame stage (as the pipeline runs) and without it (each clip's frames prepared anew)."""
    runs = {}
    for per_frame, tag in ((True, ""), (False, "_per_clip")):
        for stride in (16, 4):
            best = min((backbone_alone(get_backbone(name, **opts), root, batch, stride, per_frame)
                        for _ in range(repeats)), key=lambda r: r["seconds"])
            runs[f"stride_{stride}{tag}"] = best
        runs[f"ratio_4_over_16{tag}"] = round(runs[f"stride_4{tag}"]["seconds"] / runs[f"stride_16{tag}"]["seconds"], 3)
    runs["speedup_stride_4"] = round(runs["stride_4_per_clip"]["seconds"] / runs["stride_4"]["seconds"], 3)
    return runs


def interleaved_best(variants: dict[str, dict], root: Path, batch: int, repeats: int) -> dict:
    """The motion backbone under each of `variants` (name -> options) on the same workload,
    interleaved so that load changes hit all alike: the best of `repeats` runs of each."""
    runs: dict = {name: [] for name in variants}
    for _ in range(repeats):
        for name, opts in variants.items():
            runs[name].append(backbone_alone(get_backbone("motion", **opts), root, batch))
    return {name: min(r, key=lambda x: x["seconds"]) for name, r in runs.items()}


def size_cost(root: Path, batch: int, repeats: int) -> dict:
    """The motion backbone's default working size (auto: native, at most 240 lines) against the
    fixed 160x120 it replaced, on the same workload, interleaved, best of `repeats` each."""
    best = interleaved_best({"auto": {"size": "auto"}, "160x120": {"size": "160x120"}}, root, batch, repeats)
    return {**best, "ratio_auto_over_160x120": round(best["auto"]["seconds"] / best["160x120"]["seconds"], 3)}


def cut_cost(root: Path, batch: int, repeats: int) -> dict:
    """The scene-cut check of the motion backbone (`cuts=skip`, the default) against none
    (`cuts=keep`), on the same workload, interleaved, best of `repeats` each: what checking every
    frame pair costs where it finds a cut (bikes.mp4's five) and where it finds none."""
    best = interleaved_best({"skip": {"cuts": "skip"}, "keep": {"cuts": "keep"}}, root, batch, repeats)
    return {**best, "ratio_skip_over_keep": round(best["skip"]["seconds"] / best["keep"]["seconds"], 3)}


def stabilize_cost(root: Path, batch: int, repeats: int) -> dict:
    """The motion backbone's `stabilize` (the camera's motion fitted to every frame pair's flow and,
    where it moves the frame by 0.25 px or more, taken out) against none, interleaved, best of
    `repeats` each: on the workload as filmed (still cameras: the fit runs on every pair and is
    applied on none) and on a copy of its videos and frame folders through the check-shake
    stage's camera (`dev_sets.camera_effect`, shake; the MP4 is copied as it is, so bikes.mp4 stays
    still): there the motion is taken out of most pairs."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import dev_sets

    plain = root / "still"
    plain.mkdir()
    for link in sorted(root.iterdir()):
        if link != plain:
            link.rename(plain / link.name)
    shaken = dev_sets.degrade_tree(_resolved_copy(plain, root / "resolved"), root / "shaken", "shake", seed=0)
    (shaken / ".degraded").unlink()  # its marker: every entry left is a video or a frame folder
    variants = {"off": {}, "on": {"stabilize": True}}
    rows = {}
    for name, folder in (("still", plain), ("shaken", shaken)):
        best = interleaved_best(variants, folder, batch, repeats)
        rows[name] = {**best, "ratio_on_over_off": round(best["on"]["seconds"] / best["off"]["seconds"], 3)}
    return rows


def light_cost(root: Path, batch: int, repeats: int) -> dict:
    """The motion backbone's `light` local (each frame of a pair divided by its local mean
    brightness, a Gaussian blur and a division per frame, before the flow) against off, on the same
    workload, interleaved, best of `repeats` each."""
    best = interleaved_best({"off": {"light": "off"}, "local": {"light": "local"}}, root, batch, repeats)
    return {**best, "ratio_local_over_off": round(best["local"]["seconds"] / best["off"]["seconds"], 3)}


def _resolved_copy(src: Path, dst: Path) -> Path:
    """`src`'s links as a real folder tree (degrade_tree walks the tree it is given)."""
    import shutil

    dst.mkdir()
    for link in sorted(src.iterdir()):
        target = link.resolve()
        if target.is_dir():
            shutil.copytree(target, dst / link.name)
        else:
            shutil.copy2(target, dst / link.name)
    return dst


def timing_cost(root: Path, repeats: int) -> dict:
    """What reading a file's frame timestamps costs (extract.timing, done for every file PyAV
    opens): per video, the demux pass of `packet_times` against decoding every frame with PyAV
    and against decoding plus the motion backbone's default work (clips at stride 4, the
    frame-rate cap), best of `repeats`, one process. The shared videos and a synthetic 320x240
    video of 6,000 frames (3 min 20 s at 30 fps)."""
    from extract.timing import packet_times

    backbone = get_backbone("motion")
    spec = ClipSpec(stride=backbone.default_stride, max_fps=backbone.default_max_fps)
    paths = [SHARED / "videos" / name for name in VIDEOS] + [synthetic_video(root / "long.mp4", 6000)]
    rows = []
    for path in paths:
        best = {"demux": float("inf"), "decode": float("inf"), "decode_and_motion": float("inf")}
        for _ in range(repeats):
            start = time.perf_counter()
            packet_times(str(path))
            best["demux"] = min(best["demux"], time.perf_counter() - start)
            start = time.perf_counter()
            stream = open_video(path, ("pyav",))
            frames = sum(1 for _ in stream.frames)
            best["decode"] = min(best["decode"], time.perf_counter() - start)
            start = time.perf_counter()
            stream = open_video(path, ("pyav",))
            backbone.start_video()
            for clip in iter_clips(stream.frames, spec, stream.fps, prepare=backbone.prepare_frame, keep_frames=False,
                                   times=None if stream.timing is None else stream.timing.times):
                backbone.forward_batch(backbone.preprocess_prepared(clip.prepared, clip.sources)[None])
            best["decode_and_motion"] = min(best["decode_and_motion"], time.perf_counter() - start)
        rows.append({"video": path.name, "frames": frames, **{k: round(v, 4) for k, v in best.items()},
                     "demux_over_decode": round(best["demux"] / best["decode"], 4),
                     "demux_over_decode_and_motion": round(best["demux"] / best["decode_and_motion"], 4)})
        print(rows[-1], flush=True)
    return {"rows": rows}


def _plain_frames(container, stream):
    """The reader before `PyAVFrames` (until 2026-12-05), as it was: PyAV's decoding loop, each
    frame made an RGB array and yielded."""
    try:
        for frame in container.decode(stream):
            yield frame.to_ndarray(format="rgb24")
    finally:
        container.close()


def reader_cost(root: Path, repeats: int) -> dict:
    """What decoding packet by packet costs (`extract.decode.PyAVFrames`, which fills in the
    frames of damaged packets and turns rotated footage upright) against the reader before it
    (PyAV's decoding loop, each frame yielded as an RGB array), alternately, best of `repeats`,
    one process, each frame consumed as the extraction's clip cutter takes it (one at a time).
    The shared videos and a synthetic 320x240 video of 6,000 frames."""
    import av

    from extract.decode import PyAVFrames

    paths = [SHARED / "videos" / name for name in VIDEOS] + [synthetic_video(root / "long.mp4", 6000)]
    rows = []
    for path in paths:
        best = {"plain": float("inf"), "packets": float("inf")}
        for _ in range(repeats):
            for way in ("plain", "packets"):
                start = time.perf_counter()
                container = av.open(str(path))
                stream = container.streams.video[0]
                stream.thread_count = 1
                reader = _plain_frames(container, stream) if way == "plain" else PyAVFrames(container, stream)
                frames = sum(1 for _ in reader)
                best[way] = min(best[way], time.perf_counter() - start)
        rows.append({"video": path.name, "frames": frames, **{k: round(v, 4) for k, v in best.items()},
                     "packets_over_plain": round(best["packets"] / best["plain"], 3)})
        print(rows[-1], flush=True)
    return {"rows": rows}


def _decode_all(job: tuple[str, int | None]) -> int:
    """Frames of one file decoded by OpenCV with `threads` FFmpeg threads (None: its default)."""
    import cv2

    path, threads = job
    cv2.setNumThreads(1)  # what a decode worker sets; it does not reach FFmpeg's threads
    params = [] if threads is None else [cv2.CAP_PROP_N_THREADS, threads]
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG, params)
    n = 0
    while capture.read()[0]:
        n += 1
    capture.release()
    return n


def opencv_threads(root: Path, procs: list[int], repeats: int) -> dict:
    """OpenCV's FFmpeg threads in decode workers: `procs` processes decode the same files at
    once (each process its own copy in turn, as decode workers do), with OpenCV's default (one
    thread per core, up to 16) and with one thread (extract.decode.OPENCV_THREADS), alternately,
    best of `repeats`. Aggregate frames/s over every process."""
    import multiprocessing as mp

    files = [str(SHARED / "videos" / "bikes.mp4"), str(SHARED / "videos" / "vtest.avi"),
             str(synthetic_video(root / "ucf_like.mp4", 1600))]
    rows = []
    for n_procs in procs:
        best: dict[str, float] = {}
        frames = 0
        for _ in range(repeats):
            for label, threads in (("default", None), ("one", 1)):
                jobs = [(f, threads) for f in files for _ in range(n_procs)]
                with mp.get_context("spawn").Pool(n_procs) as pool:
                    pool.map(_decode_all, jobs[:n_procs])  # start-up and first reads out of the timing
                    start = time.perf_counter()
                    frames = sum(pool.map(_decode_all, jobs, chunksize=1))
                    seconds = time.perf_counter() - start
                best[label] = max(best.get(label, 0.0), frames / seconds)
        rows.append({"processes": n_procs, "frames": frames,
                     "fps_default_threads": round(best["default"], 1), "fps_one_thread": round(best["one"], 1),
                     "one_over_default": round(best["one"] / best["default"], 3)})
        print(rows[-1], flush=True)
    return {"cpu_count": os.cpu_count(), "files": [Path(f).name for f in files], "rows": rows}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pipeline(backbone, root: Path, workers: int, batch: int, decoders: tuple[str, ...] | None = None
             ) -> dict:
    """End-to-end clips/s, and CPU time per clip of the main process plus the workers (a
    figure that other jobs on the machine do not change much, unlike the wall time)."""
    options = ExtractOptions(workers=workers, batch_size=batch, progress=False)
    if decoders:
        options.decoders = decoders
    with tempfile.TemporaryDirectory() as out:
        start, cpu_main, cpu_workers = time.perf_counter(), time.process_time(), _children_cpu()
        summary = extract_videos(root, out, backbone, options)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu_main + _children_cpu() - cpu_workers
    if not summary.ok:
        raise SystemExit(summary.report())
    return {"workers": workers, "decoders": list(options.decoders), "clips": summary.clips,
            "seconds": round(seconds, 3), "clips_per_s": round(summary.clips / seconds, 2),
            "cpu_ms_per_clip": round(cpu / summary.clips * 1000, 1)}


def synthetic_video(path: Path, n_frames: int) -> Path:
    import cv2

    height, width = 240, 320
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (width, height))
    rng = np.random.default_rng(0)
    background = cv2.GaussianBlur(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), (0, 0), 2)
    for i in range(n_frames):
        frame = background.copy()
        x = int(width / 2 + 120 * np.sin(i / 20))
        cv2.rectangle(frame, (x - 15, 90), (x + 15, 150), (255, 255, 255), -1)
        writer.write(frame)
    writer.release()
    return path


_MEMORY_CHILD = """
import json, resource, sys, tempfile
sys.path.insert(0, {root!r})
from extract.backbones import get_backbone
from extract.run import ExtractOptions, extract_videos
backbone = get_backbone({name!r}, **{opts!r})
with tempfile.TemporaryDirectory() as out:
    summary = extract_videos({video!r}, out, backbone, ExtractOptions(
        workers=2, progress=False, decoders=({decoder!r},)))
# VmHWM, not ru_maxrss: the latter keeps the benchmark's own peak across fork + exec
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({{"clips": summary.clips, "main_peak_mib": hwm / 1024,
                  "worker_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}}))
"""


def peak_memory(name: str, opts: dict, video: Path, decoder: str) -> dict:
    code = _MEMORY_CHILD.format(root=str(ROOT), name=name, opts=opts, video=str(video),
                                decoder=decoder)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def learned_cut_cost(root: Path, repeats: int, backbone: str = "c3d") -> dict:
    """The scene-cut check of a learned backbone in the decode workers (`preprocess_prepared`,
    which finds and records the cuts, against `preprocess` alone), on the same clips, best of
    `repeats` each, beside the decoding of those clips: on a GPU the workers' decode and
    preprocessing bound the throughput, so this is the share of it the check costs. The network
    itself is not run (a reduced random C3D stands in; preprocessing does not depend on weights)."""
    net = get_backbone(backbone, random_init=True, width=16)
    spec = ExtractOptions().clip_spec(net)
    arms = {"decode": [], "check_and_preprocess": [], "preprocess": []}
    clips = 0
    for _ in range(repeats):
        times = dict.fromkeys(arms, 0.0)
        clips = 0
        for entry in sorted(root.iterdir()):
            stream = open_image_folder(entry) if entry.is_dir() else open_video(entry)
            frames = _TimedFrames(stream.frames)
            for clip in iter_clips(frames, spec, stream.fps):
                start = time.perf_counter()
                net.preprocess_prepared(clip.frames, clip.sources)
                middle = time.perf_counter()
                net.preprocess(clip.frames)
                times["check_and_preprocess"] += middle - start
                times["preprocess"] += time.perf_counter() - middle
                clips += 1
            times["decode"] += frames.seconds
        for arm in arms:
            arms[arm].append(times[arm])
    best = {arm: round(min(v), 3) for arm, v in arms.items()}
    return {"backbone": backbone, "clips": clips, "seconds": best,
            "ratio_check_over_preprocess": round(best["check_and_preprocess"] / best["preprocess"], 3),
            "ratio_worker_with_over_without": round((best["decode"] + best["check_and_preprocess"])
                                                    / (best["decode"] + best["preprocess"]), 3)}


#: what `workload` holds, for the checks that time the backbone alone on it
WORKLOAD_LEAD = ("Workload: tree.avi, bikes.mp4, vtest.avi and UCSD Ped2 test 01, 02, repeated; backbone alone "
                 "(decode not timed). ")


def _write_check(out: Path, name: str, title: str, measure, cost: dict, table: str, lead: str = "") -> None:
    """Write one single-question check (`--timing-cost`, `--opencv-threads`) as `name`.json and
    `name`.md: its title, the docstring of the function that measured it, the command, the table."""
    cost.update(command="OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_extract.py " + " ".join(sys.argv[1:]),
                date=time.strftime("%Y-%m-%d %H:%M"), load_average=os.getloadavg())
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(cost, indent=1))
    (out / f"{name}.md").write_text(
        f"# {title}\n\n" + measure.__doc__.replace("\n    ", " ").strip()
        + f"\n\n{lead}Command: `{cost['command']}` ({cost['date']}, load average after {cost['load_average']}).\n\n"
        + table)
    print((out / f"{name}.md").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="motion")
    parser.add_argument("--backbone-opt", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--copies", type=int, default=3, help="times the workload is repeated")
    parser.add_argument("--short-frames", type=int, default=480)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--quick", action="store_true",
                        help="pipeline ratio only, printed, nothing written (for tuning)")
    parser.add_argument("--cut-cost", action="store_true",
                        help="only the scene-cut check against none (motion; C3D preprocessing), written to extract_cuts.{json,md}")
    parser.add_argument("--timing-cost", action="store_true",
                        help="only the frame-timestamp pass against decoding, written to extract_timing.{json,md}")
    parser.add_argument("--opencv-threads", default=None, metavar="PROCS",
                        help="only OpenCV's FFmpeg threads, default against one, with these numbers of "
                             "processes decoding at once (e.g. 1,2,4), written to extract_opencv_threads.{json,md}")
    parser.add_argument("--stabilize-cost", action="store_true",
                        help="only the motion backbone's stabilize against none, on still and shaken footage, "
                             "written to extract_stabilize.{json,md}")
    parser.add_argument("--light-cost", action="store_true",
                        help="only the motion backbone's light=local against off, written to extract_light.{json,md}")
    parser.add_argument("--reader-cost", action="store_true",
                        help="only PyAV's packet-by-packet reader against its plain decoding loop, written to "
                             "extract_reader.{json,md}")
    args = parser.parse_args()
    if args.reader_cost:
        with tempfile.TemporaryDirectory() as tmp:
            cost = reader_cost(Path(tmp), args.repeats)
        _write_check(args.out, "extract_reader", "Decoding packet by packet: what it costs", reader_cost, cost,
                     "| video | frames | the reader before, s | packet by packet, s | packets / before |\n|---|---|---|---|---|\n"
                     + "".join(f"| {r['video']} | {r['frames']} | {r['plain']} | {r['packets']} | "
                               f"**{r['packets_over_plain']}** |\n" for r in cost["rows"]))
        return
    if args.light_cost:
        with tempfile.TemporaryDirectory() as tmp:
            cost = light_cost(workload(Path(tmp), args.copies), args.batch_size, args.repeats)
        _write_check(args.out, "extract_light", "Each frame divided by its local brightness: what it costs", light_cost,
                     cost, "| light | clips | seconds |\n|---|---|---|\n"
                     + "".join(f"| {name} | {cost[name]['clips']} | {cost[name]['seconds']} |\n" for name in ("off", "local"))
                     + f"\nlocal / off: **{cost['ratio_local_over_off']}**\n",
                     lead=WORKLOAD_LEAD)
        return
    if args.stabilize_cost:
        with tempfile.TemporaryDirectory() as tmp:
            cost = stabilize_cost(workload(Path(tmp), args.copies), args.batch_size, args.repeats)
        _write_check(args.out, "extract_stabilize", "Taking the camera's motion out: what it costs", stabilize_cost,
                     cost, "| footage | clips | seconds, off | seconds, on | on / off |\n|---|---|---|---|---|\n"
                     + "".join(f"| {name} | {r['off']['clips']} | {r['off']['seconds']} | {r['on']['seconds']} | "
                               f"**{r['ratio_on_over_off']}** |\n" for name, r in cost.items()
                               if isinstance(r, dict) and "off" in r),
                     lead=WORKLOAD_LEAD)
        return
    if args.opencv_threads:
        with tempfile.TemporaryDirectory() as tmp:
            cost = opencv_threads(Path(tmp), [int(n) for n in args.opencv_threads.split(",")], args.repeats)
        _write_check(args.out, "extract_opencv_threads", "OpenCV's decoding threads in decode workers",
                     opencv_threads, cost,
                     "| processes | frames decoded | frames/s, OpenCV's default threads | frames/s, one thread | one / default |\n"
                     "|---|---|---|---|---|\n"
                     + "".join(f"| {r['processes']} | {r['frames']} | {r['fps_default_threads']} | {r['fps_one_thread']} | "
                               f"{r['one_over_default']} |\n" for r in cost["rows"]),
                     lead=f"Files: {', '.join(cost['files'])}; {cost['cpu_count']} cores. ")
        return
    if args.timing_cost:
        with tempfile.TemporaryDirectory() as tmp:
            cost = timing_cost(Path(tmp), args.repeats)
        _write_check(args.out, "extract_timing", "Reading the frames' timestamps: what it costs", timing_cost, cost,
                     "| video | frames | demux s | decode s | decode + motion s | demux / decode | demux / (decode + motion) |\n"
                     "|---|---|---|---|---|---|---|\n"
                     + "".join(f"| {r['video']} | {r['frames']} | {r['demux']} | {r['decode']} | {r['decode_and_motion']} | "
                               f"{r['demux_over_decode']} | {r['demux_over_decode_and_motion']} |\n" for r in cost["rows"]))
        return
    if args.cut_cost:
        with tempfile.TemporaryDirectory() as tmp:
            root = workload(Path(tmp), args.copies)
            cost = cut_cost(root, args.batch_size, args.repeats)
            learned = learned_cut_cost(root, args.repeats)
        cost.update(learned=learned,
                    command="OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_extract.py " + " ".join(sys.argv[1:]),
                    date=time.strftime("%Y-%m-%d %H:%M"), load_average=os.getloadavg())
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "extract_cuts.json").write_text(json.dumps(cost, indent=1))
        (args.out / "extract_cuts.md").write_text(
            "# The scene-cut check: what it costs\n\n## The motion backbone's check\n\n" + cut_cost.__doc__.replace("\n    ", " ").strip()
            + f"\n\nCommand: `{cost['command']}` ({cost['date']}, load average after {cost['load_average']}). Workload: "
            "tree.avi, bikes.mp4, vtest.avi and UCSD Ped2 test 01, 02, repeated; backbone alone (decode not timed).\n\n"
            "| cuts | clips | seconds | clips/s |\n|---|---|---|---|\n"
            + "".join(f"| {m} | {cost[m]['clips']} | {cost[m]['seconds']} | {cost[m]['clips_per_s']} |\n" for m in ("skip", "keep"))
            + f"\nThe check takes **{cost['ratio_skip_over_keep']}x** the backbone time of none (a cut pair skips its flow).\n"
            + "\n## A learned backbone's check\n\n" + learned_cut_cost.__doc__.replace("\n    ", " ").strip() + "\n\n"
            + f"| {learned['backbone']}, {learned['clips']} clips | seconds |\n|---|---|\n"
            + "".join(f"| {arm.replace('_', ' ')} | {sec} |\n" for arm, sec in learned["seconds"].items())
            + f"\nFinding the cuts takes **{learned['ratio_check_over_preprocess']}x** the preprocessing time of "
            f"none, and **{learned['ratio_worker_with_over_without']}x** the workers' decode and preprocessing.\n")
        print((args.out / "extract_cuts.md").read_text())
        return
    opts = dict(item.split("=", 1) for item in args.backbone_opt)
    backbone = get_backbone(args.backbone, **opts)
    load_before = os.getloadavg()
    print(f"backbone {args.backbone} {opts or ''}; {os.cpu_count()} CPUs, load {load_before}", flush=True)

    if not args.quick:
        print("1. decode throughput", flush=True)
        decode = decode_throughput(args.repeats)

    print("2. pipeline vs backbone alone", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = workload(Path(tmp), args.copies)
        alone, piped = [], []
        for _ in range(args.repeats):  # interleaved, so that load changes hit both alike
            alone.append(backbone_alone(backbone, root, args.batch_size))
            piped.append(pipeline(backbone, root, 2, args.batch_size))
            print(f"  alone {alone[-1]['clips_per_s']} clips/s, pipeline (2 workers) "
                  f"{piped[-1]['clips_per_s']} clips/s", flush=True)
        one_worker = pipeline(backbone, root, 1, args.batch_size)
        opencv_first = pipeline(backbone, root, 2, args.batch_size, ("opencv", "pyav", "decord"))
        overlap = overlap_cost(args.backbone, opts, root, args.batch_size, args.repeats)
        sizes = size_cost(root, args.batch_size, args.repeats) if args.backbone == "motion" else None
    print(f"  4x the clips (stride 4 / stride 16): {overlap['ratio_4_over_16']}x the backbone time "
          f"({overlap['stride_4']['seconds']} s / {overlap['stride_16']['seconds']} s); each clip's frames "
          f"prepared anew: {overlap['ratio_4_over_16_per_clip']}x; per-frame stage at stride 4: "
          f"{overlap['speedup_stride_4']}x faster", flush=True)
    if sizes:
        print(f"  working size auto / 160x120: {sizes['ratio_auto_over_160x120']}x the backbone time "
              f"({sizes['auto']['seconds']} s / {sizes['160x120']['seconds']} s)", flush=True)
    best_alone = max(alone, key=lambda r: r["clips_per_s"])
    best_piped = max(piped, key=lambda r: r["clips_per_s"])
    ratio = best_piped["clips_per_s"] / best_alone["clips_per_s"]
    print(f"  ratio pipeline / backbone alone = {ratio:.2f} (1 worker: "
          f"{one_worker['clips_per_s']} clips/s; OpenCV first: {opencv_first['clips_per_s']} "
          "clips/s)", flush=True)
    print(f"  CPU ms per clip: backbone alone {best_alone['cpu_ms_per_clip']}, pipeline "
          f"{best_piped['cpu_ms_per_clip']}, OpenCV first {opencv_first['cpu_ms_per_clip']}",
          flush=True)
    if args.quick:
        return

    print("3. peak memory, short vs 10x longer video", flush=True)
    memory = {}
    with tempfile.TemporaryDirectory() as tmp:
        short = synthetic_video(Path(tmp) / "short.mp4", args.short_frames)
        long = synthetic_video(Path(tmp) / "long.mp4", args.short_frames * 10)
        for decoder in ("pyav", "decord", "opencv"):
            runs = {"short": peak_memory(args.backbone, opts, short, decoder),
                    "long": peak_memory(args.backbone, opts, long, decoder)}
            for part in ("main", "worker"):
                runs[f"{part}_ratio"] = round(runs["long"][f"{part}_peak_mib"]
                                              / runs["short"][f"{part}_peak_mib"], 3)
            memory[decoder] = runs
            print(f"  {decoder:7s} short {runs['short']}\n          long  {runs['long']}\n"
                  f"          ratios main {runs['main_ratio']}, worker {runs['worker_ratio']}",
                  flush=True)

    import cv2, decord, av  # noqa: E401 - versions for the record
    results = {
        "command": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_extract.py "
                   + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(),
        "python": platform.python_version(), "opencv": cv2.__version__,
        "decord": decord.__version__, "pyav": av.__version__,
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "backbone": backbone.describe(), "backbone_opts": opts,
        "decode": decode,
        "pipeline": {"backbone_alone": alone, "pipeline_2_workers": piped,
                     "pipeline_1_worker": one_worker, "pipeline_opencv_first": opencv_first,
                     "best_ratio": round(ratio, 3), "overlap": overlap, "working_size": sizes,
                     "copies": args.copies},
        "memory": memory, "memory_short_frames": args.short_frames,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "extract.json").write_text(json.dumps(results, indent=1))
    (args.out / "extract.md").write_text(markdown(results))
    print(f"written {args.out / 'extract.json'} and extract.md")


def markdown(r: dict) -> str:
    lines = [f"# Extraction benchmark ({r['date']})", "",
             f"`{r['command']}`", "",
             f"{r['cpus']} CPUs, load average {r['load_average_before'][0]:.1f} before and "
             f"{r['load_average_after'][0]:.1f} after (a shared machine); OpenCV {r['opencv']}, "
             f"decord {r['decord']}, PyAV {r['pyav']}. Backbone: `{r['backbone']['backbone']}` "
             f"{r['backbone_opts'] or '(defaults)'}.", "",
             "## Decode throughput (frames/s to RGB arrays, best of repeats)", "",
             "| video | frames | decord | PyAV | OpenCV |", "|---|---|---|---|---|"]
    for name in VIDEOS:
        rows = {row["decoder"]: row for row in r["decode"] if row["video"] == name}
        lines.append(f"| {name} | {rows['decord']['frames']} | "
                     + " | ".join(f"{rows[d]['frames_per_s']:.0f}" for d in ("decord", "pyav", "opencv"))
                     + " |")
    p = r["pipeline"]
    best_alone = max(x["clips_per_s"] for x in p["backbone_alone"])
    best_piped = max(x["clips_per_s"] for x in p["pipeline_2_workers"])
    lines += ["", "## Pipeline against the backbone alone (clips/s)", "",
              f"Workload: {', '.join(VIDEOS)} and UCSD Ped2 test 01, 02, {p['copies']} times "
              f"({p['backbone_alone'][0]['clips']} clips). The pipeline's time is end to end "
              "(worker start-up, decoding, HDF5 writes); the backbone alone is timed in one process "
              "with the decoding time subtracted (clip cutting, the per-frame stage and the per-clip "
              "work counted).", "",
              "| run | backbone alone | pipeline, 2 workers |", "|---|---|---|"]
    for i, (a, b) in enumerate(zip(p["backbone_alone"], p["pipeline_2_workers"])):
        lines.append(f"| {i + 1} | {a['clips_per_s']} | {b['clips_per_s']} |")
    lines += ["", f"Best pipeline / best backbone alone: **{p['best_ratio']:.2f}** "
              f"({best_piped} / {best_alone}); pipeline with 1 worker: "
              f"{p['pipeline_1_worker']['clips_per_s']} clips/s; with OpenCV as the first decoder "
              f"(2 workers): {p['pipeline_opencv_first']['clips_per_s']} clips/s.", "",
              "CPU time per clip (main process + workers; less sensitive to other jobs than "
              f"wall time): backbone alone {max(p['backbone_alone'], key=lambda x: x['clips_per_s'])['cpu_ms_per_clip']} ms, "
              f"pipeline {max(p['pipeline_2_workers'], key=lambda x: x['clips_per_s'])['cpu_ms_per_clip']} ms, "
              f"pipeline with OpenCV first {p['pipeline_opencv_first']['cpu_ms_per_clip']} ms. "
              "The difference is what decoding and the hand-over cost; with 2 cores to itself "
              "the pipeline runs two such streams side by side.", "",
              f"Overlapping clips: the backbone alone at stride 4 (4x the clips of stride 16) took "
              f"**{p['overlap']['ratio_4_over_16']}x** the time of stride 16 "
              f"({p['overlap']['stride_4']['seconds']} s for {p['overlap']['stride_4']['clips']} clips against "
              f"{p['overlap']['stride_16']['seconds']} s for {p['overlap']['stride_16']['clips']}): the motion "
              "backbone prepares each frame (grey, resized) once as it is decoded and computes each frame "
              "pair's flow once, and the clips that share them reuse both. Baseline in the same run, each "
              "clip's 16 frames prepared anew (`preprocess` on the raw clip, the way before the per-frame "
              f"stage): {p['overlap']['ratio_4_over_16_per_clip']}x; the per-frame stage makes stride 4 "
              f"**{p['overlap']['speedup_stride_4']}x** faster "
              f"({p['overlap']['stride_4_per_clip']['seconds']} s -> {p['overlap']['stride_4']['seconds']} s).", "",
              *([f"Working size: the default, auto (native, at most 240 lines: tree.avi and Ped2 at their "
                 f"native 320x240 and 360x240, bikes.mp4 at 565x240, vtest.avi at 320x240), took "
                 f"**{p['working_size']['ratio_auto_over_160x120']}x** the backbone time of the fixed 160x120 it "
                 f"replaced ({p['working_size']['auto']['seconds']} s against "
                 f"{p['working_size']['160x120']['seconds']} s for the same {p['working_size']['auto']['clips']} "
                 "clips; 2026-12-03, docs/defaults.md).", ""] if p.get("working_size") else []),
              "## Peak memory (MiB), synthetic 320x240 mp4v video, one decoder at a time", "",
              "| decoder | video | frames | clips | main process | largest decode worker |",
              "|---|---|---|---|---|---|"]
    for decoder, m in r["memory"].items():
        for name, frames in (("short", r["memory_short_frames"]),
                             ("long", r["memory_short_frames"] * 10)):
            lines.append(f"| {decoder} | {name} | {frames} | {m[name]['clips']} | "
                         f"{m[name]['main_peak_mib']:.0f} | {m[name]['worker_peak_mib']:.0f} |")
    lines += ["", "Long / short peak: " + "; ".join(
        f"{d}: main **{m['main_ratio']:.2f}x**, worker **{m['worker_ratio']:.2f}x**"
        for d, m in r["memory"].items()) + ".", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
