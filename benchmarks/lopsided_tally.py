"""Tally of benchmarks/lopsided_history.sh for benchmarks/results/lopsided_history.md: line, events on the truth / in normal parts, AUROC."""
import csv, json, sys
import numpy as np
from sklearn.metrics import roc_auc_score
S = "/tmp/lopsided_scratch"
GT = {r["video"]: (int(r["anomaly_start_frame"]) - 1, int(r["anomaly_end_frame"]) - 1)
      for r in csv.DictReader(open("/work/shared/data/ucsd_ped2/ped2_test_gt.csv")) if r["video"] in ("01", "02")}
for h in sys.argv[1:]:
    run = json.load(open(f"{S}/s_{h}/run.json"))
    g = run["groups"][0]
    ev = list(csv.DictReader(open(f"{S}/s_{h}/events.csv")))
    hit = {v: 0 for v in GT}; false_test = 0; false_train = 0
    for e in ev:
        s, t, v = int(e["start_frame"]), int(e["end_frame"]), e["video"]
        if v in GT:
            a, b = GT[v]
            if s <= b and t >= a: hit[v] += 1
            else: false_test += 1
        else:
            false_train += 1
    # frame AUROC on test 01-02 from segments.csv (max clip score covering each frame)
    seg = list(csv.DictReader(open(f"{S}/s_{h}/segments.csv")))
    ys, ss = [], []
    for v, (a, b) in GT.items():
        fr = np.full(180, -np.inf)
        for r in seg:
            if r["video"] == v:
                fr[int(r["start_frame"]):int(r["end_frame"]) + 1] = np.maximum(fr[int(r["start_frame"]):int(r["end_frame"]) + 1], float(r["score"]))
        ok = np.isfinite(fr); y = np.zeros(180); y[a:b + 1] = 1
        ys.append(y[ok]); ss.append(fr[ok])
    auc = roc_auc_score(np.concatenate(ys), np.concatenate(ss))
    # normal frames of the test clips over the line
    print(f"| {h} | {g.get('history_videos')} | {g['threshold']:.3f} | {g['line_from']} | {g.get('line_note','')[:30]} | "
          f"{sum(1 for x in hit.values() if x)}/2 ({hit['01']}, {hit['02']}) | {false_test} | {false_train} | {auc:.4f} |")
