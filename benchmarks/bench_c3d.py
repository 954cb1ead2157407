"""C3D throughput: the network alone and inside the extraction pipeline, CPU and (if present) GPU.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_c3d.py

writes benchmarks/results/c3d_cpu.{json,md} (c3d_gpu.* when torch sees CUDA, c3d_wire_cpu.* with
`--wire-check`; `--json PATH` for another file, the Markdown beside it), with the command, the
date and the load average before and after: the figures are clips/s on whatever machine runs it,
and on a shared one they move with the load.

CPU: full-width C3D (random weights: speed does not depend on their values), float32,
channels_last_3d, `--threads` intra-op threads, batches of `--batch`. "Pipeline": the real
runner (`extract.run.extract_videos`) over `--video` with decode workers, clips/s end to end.
GPU (only when torch sees CUDA): fp16 autocast at batches 32/64/128, model alone from pinned host
memory, then the pipeline with `--gpu-workers` decode workers over `--gpu-videos` copies of the
video (a worker decodes one video at a time, so one video measures one worker), once per
decoder in `--gpu-decoders` and per wire (uint8, float32), and the share of the pipeline's wall
time during which the device was computing (CUDA events around each forward call).

The report ends with the expected wall time for the UCF-Crime test set (290 videos, 1,111,808
frames, 69,364 complete 16-frame clips) at each measured rate.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extract.backbones.c3d import C3DBackbone  # noqa: E402
from extract.lazy import lazy_import  # noqa: E402

import _results  # noqa: E402  (benchmarks/: the results files' command line)

# lazily, as the product does: spawned decode workers import this script again (as __mp_main__),
# and a torch import there would add its seconds to every pipeline figure below
torch = lazy_import("torch")

UCF_TEST_FRAMES = 1_111_808
UCF_TEST_CLIPS = 69_364  # sum over the 290 test videos of floor(frames / 16)


def synthetic_video(path: Path, n_frames: int, size_hw: tuple[int, int] = (240, 320)) -> Path:
    """A UCF-Crime-sized (320x240, 30 fps) mp4v video with moving content, written with OpenCV."""
    import cv2

    h, w = size_hw
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (w, h))
    if not writer.isOpened():
        raise SystemExit(f"cannot write {path} with OpenCV's mp4v encoder")
    rng = np.random.default_rng(0)
    background = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    for i in range(n_frames):
        frame = np.roll(background, 3 * i, axis=1)
        cv2.circle(frame, (int(w / 2 + 100 * np.sin(i / 15)), h // 2), 20, (255, 255, 255), -1)
        writer.write(frame)
    writer.release()
    return path


def model_alone(device: str, batch: int, iters: int, warmup: int = 1, width: int = 1,
                amp: bool | None = None, wire: str = "float32") -> dict:
    """Clips/s of `forward_batch` on preprocessed random clips (host -> device included), as
    float32 input or as the uint8 clips the decode workers send (normalised on the device)."""
    backbone = C3DBackbone(random_init=True, device=device, batch_size=batch, width=width, amp=amp)
    rng = np.random.default_rng(0)
    clips = (rng.integers(0, 256, (batch, 3, 16, 112, 112), dtype=np.uint8) if wire == "uint8"
             else rng.standard_normal((batch, 3, 16, 112, 112)).astype(np.float32))
    for _ in range(warmup):
        backbone.forward_batch(clips)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        backbone.forward_batch(clips)
        times.append(time.perf_counter() - start)
    best, median = min(times), float(np.median(times))
    return {"device": device, "batch": batch, "wire": wire, "precision": backbone.plan.precision,
            "channels_last": backbone.plan.channels_last, "iters": iters,
            "clips_per_s_best": round(batch / best, 3), "clips_per_s_median": round(batch / median, 3)}


def preprocess_rate(video: Path, n: int = 16) -> dict:
    """Clips/s one decode worker spends on `preprocess` alone (resize, mean, crop) - CPU per GPU."""
    import cv2

    backbone = C3DBackbone(random_init=True, width=16)
    cap = cv2.VideoCapture(str(video))
    frames = []
    while len(frames) < 16 and (ok := cap.read())[0]:
        frames.append(cv2.cvtColor(ok[1], cv2.COLOR_BGR2RGB))
    cap.release()
    if len(frames) < 16:
        raise SystemExit(f"{video}: fewer than 16 frames")
    clip = np.stack(frames)
    start = time.perf_counter()
    for _ in range(n):
        backbone.preprocess(clip)
    return {"frame_size": list(clip.shape[1:3]), "clips_per_s": round(n / (time.perf_counter() - start), 1)}


def pipeline(video: Path, device: str, batch: int, workers: int, width: int = 1,
             wire: str | None = None, decoders: tuple[str, ...] | None = None,
             bucket: bool | None = None) -> dict:
    """The real runner over a video or a folder: clips/s end to end, and the backbone's busy
    share. `wire`: what the decode workers send ("uint8", the default, or "float32");
    `decoders`: the runner's decoder list (its default when None); `bucket`: whether sub-batches
    are padded to a power of two (the device's default when None)."""
    from extract.run import ExtractOptions, extract_videos

    backbone = C3DBackbone(random_init=True, device=device, batch_size=batch, width=width)
    if wire:
        backbone.wire = wire
    if bucket is not None:
        import dataclasses

        backbone.plan = dataclasses.replace(backbone.plan, bucket=bucket)
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF)
    with tempfile.TemporaryDirectory() as out:
        options = ExtractOptions(workers=workers, batch_size=batch, progress=False)
        if decoders:
            options.decoders = tuple(decoders)
        summary = extract_videos(video, out, backbone, options)
    after = resource.getrusage(resource.RUSAGE_SELF)
    main_cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if not summary.ok:
        raise SystemExit(f"pipeline failed: {summary.report()}")
    stats = backbone.stats
    result = {"device": device, "batch": batch, "workers": workers, "wire": backbone.wire,
              "decoders": ",".join(options.decoders), "bucket": backbone.plan.bucket,
              "padded_rows": stats["padded"], "clips": summary.clips,
              "seconds": round(summary.seconds, 2),
              "clips_per_s": round(summary.clips / summary.seconds, 3),
              "forward_share": round(stats["forward_s"] / summary.seconds, 3),
              # CPU seconds of the main process (all its threads) per wall second: near 1 or
              # above, the main process (receiving, stacking, copying clips) is the limit
              "main_cpu_share": round(main_cpu_s / summary.seconds, 3)}
    if device.startswith("cuda"):
        result["gpu_busy_share"] = round(stats["device_s"] / summary.seconds, 3)
    return result


def copies(video: Path, folder: Path, n: int) -> Path:
    """`n` copies of `video` in `folder`: a batch of videos for the decode workers to share."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        shutil.copyfile(video, folder / f"copy{i:03d}{video.suffix}")
    return folder


def ucf_estimate(clips_per_s: float) -> dict:
    seconds = UCF_TEST_CLIPS / clips_per_s
    return {"clips_per_s": clips_per_s, "hours": round(seconds / 3600, 2),
            "video_frames_per_s": round(clips_per_s * 16, 1)}


def _send_clips(conn, clip: np.ndarray, n: int) -> None:
    """A stand-in decode worker: `n` copies of one preprocessed clip, sent as the workers do."""
    for i in range(n):
        conn.send(("clip", 0, i, 16 * i, 16 * i + 15, clip))
    conn.send(None)
    conn.close()


def transport(wire: str, n: int = 512, batch: int = 64, crops: str = "centre") -> dict:
    """The main process's side of moving `n` clips: receiving them from a worker process,
    stacking batches of `batch`, and making the tensor the copy to a device starts from. No
    decoding, no network: the ceiling this work puts on one main process, in clips/s."""
    import multiprocessing as mp

    backbone = C3DBackbone(random_init=True, width=64, crops=crops)
    backbone.wire = wire
    frames = np.random.default_rng(0).integers(0, 256, (16, 128, 171, 3), dtype=np.uint8)
    clip = backbone.preprocess_prepared(frames, range(16))
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_send_clips, args=(send, clip, n))
    worker.start()
    send.close()
    first = receive.recv()  # the worker is up: its start is not timed
    pending, start, cpu = [first[5]], time.perf_counter(), time.process_time()
    while (message := receive.recv()) is not None:
        pending.append(message[5])
        if len(pending) == batch:
            torch.from_numpy(np.ascontiguousarray(np.stack(pending)))
            pending = []
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    worker.join()
    return {"wire": wire, "crops": crops, "clip_bytes": int(clip.nbytes), "clips": n,
            "clips_per_s": round((n - 1) / seconds, 1), "main_cpu_ms_per_clip": round(1000 * cpu / (n - 1), 3)}


def wire_check(args) -> int:
    """The main process's cost of moving clips, uint8 against float32, on the CPU."""
    torch.set_num_threads(args.threads)
    moved = {"uint8": [], "float32": []}
    tencrop = {"uint8": [], "float32": []}  # ten inputs per clip (the UCF-Crime convention)
    for _ in range(args.wire_check):
        for wire in moved:
            moved[wire].append(transport(wire))
            tencrop[wire].append(transport(wire, n=128, crops="tencrop"))
            print(json.dumps(moved[wire][-1]), json.dumps(tencrop[wire][-1]), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        video = args.video or synthetic_video(Path(tmp) / "synthetic.mp4", args.frames)
        folder = copies(video, Path(tmp) / "videos", args.gpu_videos or 4)
        runs = {"uint8": [], "float32": []}
        for _ in range(args.wire_check):
            for wire in runs:
                row = pipeline(folder, "cpu", 64, args.workers, width=64, wire=wire)
                runs[wire].append(row)
                print(json.dumps(row), flush=True)
    def best(by_wire: dict) -> dict:
        return {wire: max(r["clips_per_s"] for r in rows) for wire, rows in by_wire.items()}

    report = {"torch": torch.__version__, "cpu_count": os.cpu_count(), "threads": args.threads,
              "workers": args.workers, "videos": args.gpu_videos or 4, "frames": args.frames,
              "width_divisor": 64, "runs": runs, "best_clips_per_s": best(runs),
              "transport": moved, "transport_best_clips_per_s": best(moved),
              "transport_tencrop": tencrop, "transport_tencrop_best_clips_per_s": best(tencrop)}
    for key, name in (("speedup_uint8_over_float32", "best_clips_per_s"),
                      ("transport_speedup_uint8_over_float32", "transport_best_clips_per_s")):
        report[key] = round(report[name]["uint8"] / report[name]["float32"], 3)
    print(json.dumps({k: report[k] for k in ("best_clips_per_s", "speedup_uint8_over_float32",
                                             "transport_best_clips_per_s", "transport_speedup_uint8_over_float32",
                                             "transport_tencrop_best_clips_per_s")}))
    _write(args, report)
    return 0


def _write(args, report: dict) -> None:
    """The JSON, and a Markdown summary beside it: the command, date and load, each rate measured
    and the UCF-Crime estimate it gives."""
    meta = {**args.meta, "load_average_after": [round(v, 2) for v in os.getloadavg()]}
    report = {"meta": meta, **report}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    lines = ["# C3D throughput (`benchmarks/bench_c3d.py`)", "",
             f"Command: `{meta['command']}` ({meta['date']}; torch {report.get('torch')}, "
             f"{report.get('cpu_count')} CPUs, {report.get('threads')} torch thread(s); load average "
             f"{meta['load_average_before'][0]:.2f} before and {meta['load_average_after'][0]:.2f} after: on a "
             "shared machine the rates move with the load).", ""]
    if report.get("width_divisor", 1) != 1:
        lines += [f"**Channels divided by {report['width_divisor']}: a smoke run, not C3D's speed.**", ""]
    if "best_clips_per_s" in report:  # --wire-check
        lines += ["| wire | pipeline, best clips/s | moving clips alone, best clips/s | ten-crop, moving alone |",
                  "|---|---|---|---|"]
        lines += [f"| {w} | {report['best_clips_per_s'][w]} | {report['transport_best_clips_per_s'][w]} | "
                  f"{report['transport_tencrop_best_clips_per_s'][w]} |" for w in ("uint8", "float32")]
        lines += ["", f"uint8 / float32: pipeline {report['speedup_uint8_over_float32']}x, moving alone "
                  f"{report['transport_speedup_uint8_over_float32']}x."]
    else:
        lines += ["| measurement | clips/s | video frames/s | UCF-Crime test set (69,364 clips) |", "|---|---|---|---|"]
        labels = {"cpu_model_alone": f"C3D alone on the CPU (median of {args.iters} batches of {args.batch})",
                  "cpu_pipeline": "C3D in the pipeline on the CPU, "
                                  f"{args.workers} decode worker(s), {report.get('cpu_pipeline', {}).get('clips')} clips",
                  "gpu_model_alone_best": "C3D alone on the GPU, best median",
                  "gpu_pipeline": "C3D in the pipeline on the GPU, best"}
        for key, est in report.get("ucf_crime_test_estimate", {}).items():
            lines.append(f"| {labels.get(key, key)} | {est['clips_per_s']} | {est['video_frames_per_s']} | "
                         f"{est['hours']} h |")
        if "preprocess_per_worker" in report:
            lines += ["", f"One decode worker's preprocessing alone (resize, mean, crop): "
                      f"{report['preprocess_per_worker']['clips_per_s']} clips/s."]
        if "cpu_pipeline" in report:
            lines += [f"Share of the CPU pipeline's wall time in the forward pass: "
                      f"{report['cpu_pipeline']['forward_share']}."]
    md = args.json.with_suffix(".md")
    md.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.json} and {md}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads on the CPU")
    parser.add_argument("--batch", type=int, default=8, help="CPU batch size")
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--video", type=Path,
                        help="video for the pipeline runs (default: a synthetic 320x240 one)")
    parser.add_argument("--frames", type=int, default=1600, help="length of the synthetic video")
    parser.add_argument("--workers", type=int, default=1, help="decode workers in the CPU pipeline")
    parser.add_argument("--skip-cpu", action="store_true", help="GPU section only")
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--gpu-batches", default="32,64,128")
    parser.add_argument("--gpu-workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    parser.add_argument("--gpu-decoders", default="pyav,opencv",
                        help="the GPU pipeline once per decoder, each with both wires (a decoder "
                             "that is not installed is recorded as skipped)")
    parser.add_argument("--gpu-wires", default="uint8,float32",
                        help="the wires the GPU pipeline runs with (float32 is the baseline)")
    parser.add_argument("--gpu-buckets", default="on",
                        help="on,off: the GPU pipeline also without padding sub-batches to a power "
                             "of two (the baseline of the same run)")
    parser.add_argument("--gpu-videos", type=int, default=None,
                        help="copies of the video in the GPU pipeline (default: one per decode worker)")
    parser.add_argument("--width", type=int, default=1, help="channel divisor (smoke runs only)")
    parser.add_argument("--json", type=Path, default=None,
                        help="write the results here (and PATH with .md beside it) [default: "
                             "benchmarks/results/c3d_cpu.json, c3d_gpu.json with CUDA, c3d_wire_cpu.json "
                             "with --wire-check]")
    parser.add_argument("--wire-check", type=int, default=0, metavar="ROUNDS",
                        help="only compare the wires on the CPU: moving clips from a worker process "
                             "into stacked batches alone (the main process's ceiling), then the pipeline "
                             "over --gpu-videos copies with a 64x narrower C3D (so that moving clips, "
                             "not the network, is what is timed), uint8 and float32 alternately, ROUNDS "
                             "times each")
    args = parser.parse_args(argv)
    args.meta = {"command": _results.command(), "date": time.strftime("%Y-%m-%d %H:%M"),
                 "load_average_before": [round(v, 2) for v in os.getloadavg()]}
    if args.json is None:
        name = "c3d_wire_cpu" if args.wire_check else ("c3d_gpu" if torch.cuda.is_available() else "c3d_cpu")
        args.json = ROOT / "benchmarks" / "results" / f"{name}.json"
    if args.wire_check:
        return wire_check(args)

    torch.set_num_threads(args.threads)
    report: dict = {"torch": torch.__version__, "machine": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(), "threads": args.threads, "width_divisor": args.width,
                    "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    estimates = {}
    tmp = tempfile.TemporaryDirectory()
    if args.video is None:
        args.video = synthetic_video(Path(tmp.name) / "synthetic.mp4", args.frames)
    report["video"] = str(args.video)
    if not args.skip_cpu:
        report["cpu_model_alone"] = model_alone("cpu", args.batch, args.iters, width=args.width)
        print(json.dumps(report["cpu_model_alone"]), flush=True)
        estimates["cpu_model_alone"] = ucf_estimate(report["cpu_model_alone"]["clips_per_s_median"])
        report["preprocess_per_worker"] = preprocess_rate(args.video)
        print(json.dumps(report["preprocess_per_worker"]), flush=True)
        if not args.skip_pipeline:
            report["cpu_pipeline"] = pipeline(args.video, "cpu", args.batch, args.workers, args.width)
            print(json.dumps(report["cpu_pipeline"]), flush=True)
            estimates["cpu_pipeline"] = ucf_estimate(report["cpu_pipeline"]["clips_per_s"])
    if torch.cuda.is_available():
        report["gpu_model_alone"] = []
        for batch in [int(b) for b in args.gpu_batches.split(",")]:
            for amp in (True, False) if batch == 64 else (True,):  # fp32 once, for reference
                row = model_alone("cuda:0", batch, max(args.iters, 5), warmup=2, width=args.width, amp=amp)
                report["gpu_model_alone"].append(row)
                print(json.dumps(row), flush=True)
        # the same batch of 64 as the decode workers send it: a quarter of the bytes to copy
        row = model_alone("cuda:0", 64, max(args.iters, 5), warmup=2, width=args.width, wire="uint8")
        report["gpu_model_alone"].append(row)
        print(json.dumps(row), flush=True)
        best = max(r["clips_per_s_median"] for r in report["gpu_model_alone"] if r["precision"] != "fp32")
        estimates["gpu_model_alone_best"] = ucf_estimate(best)
        if not args.skip_pipeline:
            from extract.decode import installed_decoders

            videos = args.gpu_videos or args.gpu_workers
            folder = copies(args.video, Path(tmp.name) / "gpu_videos", videos)
            report["gpu_pipelines"] = []
            for decoder in args.gpu_decoders.split(","):
                # per decoder: the uint8 wire, then the float32 one as the baseline of the same run
                if not installed_decoders((decoder,)):
                    report["gpu_pipelines"].append({"decoders": decoder, "skipped": "not installed"})
                    print(f"GPU pipeline with {decoder}: skipped, not installed", flush=True)
                    continue
                rows = {}
                for wire in args.gpu_wires.split(","):
                    for bucket in args.gpu_buckets.split(","):
                        key = wire if bucket == "on" else f"{wire}, bucket {bucket}"
                        rows[key] = pipeline(folder, "cuda:0", 64, args.gpu_workers, args.width,
                                             wire=wire, decoders=(decoder,), bucket=bucket == "on")
                        rows[key]["videos"] = videos
                        print(json.dumps(rows[key]), flush=True)
                if "uint8" in rows and "float32" in rows:
                    rows["uint8"]["speedup_over_float32_wire"] = round(
                        rows["uint8"]["clips_per_s"] / rows["float32"]["clips_per_s"], 3)
                report["gpu_pipelines"] += list(rows.values())
            report["gpu_pipeline"] = max((r for r in report["gpu_pipelines"] if "clips_per_s" in r),
                                         key=lambda r: r["clips_per_s"])
            estimates["gpu_pipeline"] = ucf_estimate(report["gpu_pipeline"]["clips_per_s"])
    tmp.cleanup()
    report["ucf_crime_test_estimate"] = estimates
    print(json.dumps({"ucf_crime_test_estimate": estimates}, indent=1))
    _write(args, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
