"""Shared part of the video checks: fit DUAD and the baselines on one feature store, evaluate
each against the same ground truth, and write a table (JSON + Markdown) with the protocol.

Every method sees the same clips after the same per-group preprocessing (the config's
`preprocess`), so the table shows what DUAD adds over PCA reconstruction, Isolation Forest
and DAGMM rather than what a different input would. DUAD is run with the config's seed (the
number the documented command prints) and with further run seeds, reported as mean and
range; single fits (n_seeds=1) are listed too, so the spread of one autoencoder is visible.
"""
from __future__ import annotations

import json
import platform
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from videoad import video
from videoad.metrics import evaluate_scores

BASELINES = {"pca": {}, "iforest": {}, "dagmm": {}}


def run_method(features, cfg, ann) -> dict:
    t0 = time.perf_counter()
    s = video.detect(features, cfg)
    ev = evaluate_scores(s, ann)
    return {"auroc": ev.pooled.auroc, "ap": ev.pooled.ap, "auroc_tail_dropped": ev.pooled_tail_dropped.auroc,
            "per_video": {v.name: v.auroc for v in ev.per_video}, "seconds": time.perf_counter() - t0}


def compare(features, cfg: video.DetectConfig, ann, *, run_seeds=(0, 1, 2, 3, 4), echo=print) -> list[dict]:
    rows = []

    def add(method, settings, results):
        au = np.array([r["auroc"] for r in results])
        row = {"method": method, "settings": settings, "auroc_first": float(au[0]), "auroc_mean": float(au.mean()),
               "auroc_min": float(au.min()), "auroc_max": float(au.max()), "n_runs": len(results),
               "ap_first": float(results[0]["ap"]), "auroc_tail_dropped_first": float(results[0]["auroc_tail_dropped"]),
               "seconds_per_run": float(np.mean([r["seconds"] for r in results]))}
        rows.append(row)
        echo(f"{method:<28} AUROC {row['auroc_first']:.4f} (seed {cfg.seed}); over {len(results)} run seeds "
             f"{row['auroc_mean']:.4f} [{row['auroc_min']:.4f}, {row['auroc_max']:.4f}]")

    seeds = [cfg.seed] + [s for s in run_seeds if s != cfg.seed]
    add(f"DUAD (n_seeds={cfg.n_seeds})", {"params": cfg.params, "n_seeds": cfg.n_seeds},
        [run_method(features, replace(cfg, seed=s), ann) for s in seeds])
    if cfg.n_seeds > 1:
        add("DUAD single fit", {"params": cfg.params, "n_seeds": 1},
            [run_method(features, replace(cfg, seed=s, n_seeds=1), ann) for s in seeds])
    for name, params in BASELINES.items():
        add(name, params, [run_method(features, replace(cfg, seed=s, detector=name, params=params, n_seeds=1), ann)
                           for s in seeds])
    return rows


def write_results(name: str, rows: list[dict], meta: dict, out_dir) -> tuple[Path, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {**meta, "python": platform.python_version(), "created": time.strftime("%Y-%m-%d %H:%M")}
    (out / f"{name}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2, default=str) + "\n")
    lines = [f"# {meta.get('title', name)}", "", f"Protocol: {meta.get('protocol', '')}", "",
             f"Command: `{meta.get('command', '')}`", "",
             "| method | frame AUROC (seed %s) | mean [min, max] over %d run seeds | AP (seed %s) | s/run |"
             % (meta.get("seed"), rows[0]["n_runs"], meta.get("seed")),
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['method']} | {r['auroc_first']:.4f} | {r['auroc_mean']:.4f} "
                     f"[{r['auroc_min']:.4f}, {r['auroc_max']:.4f}] | {r['ap_first']:.4f} | {r['seconds_per_run']:.1f} |")
    (out / f"{name}.md").write_text("\n".join(lines) + "\n")
    return out / f"{name}.json", out / f"{name}.md"
