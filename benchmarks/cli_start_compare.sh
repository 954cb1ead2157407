#!/usr/bin/env bash
# `videoad extract` wall time on two 160-frame videos with a narrow random C3D (start-up
# dominates), this tree against another checkout (a worktree of an earlier commit), alternating,
# three rounds. Used once to measure the lazy torch import of the decode workers (docs/backbones.md):
#   git worktree add /tmp/wt_before <commit>; bash benchmarks/cli_start_compare.sh /tmp/wt_before [motion]
# (a second argument "motion" runs the default backbone instead of C3D)
set -eu
before=$1
if [ "${2:-c3d}" = motion ]; then
  backbone="'--backbone', 'motion'"
else
  backbone="'--backbone', 'c3d', '--random-init', '--backbone-opt', 'width=64'"
fi
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-$here/.venv-full/bin/python}
tmp=$(mktemp -d)
$py - "$tmp" <<'PY'
import shutil, sys
import cv2, numpy as np
out = sys.argv[1]
w = cv2.VideoWriter(f"{out}/a.mp4", cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (320, 240))
bg = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
for i in range(160):
    w.write(np.roll(bg, 3 * i, axis=1))
w.release()
shutil.copy(f"{out}/a.mp4", f"{out}/b.mp4")
PY
mkdir -p "$tmp/videos" && mv "$tmp"/*.mp4 "$tmp/videos/"
for round in 1 2 3; do
  for tree in "$before" "$here"; do
    rm -rf "$tmp/out"
    start=$(date +%s.%N)
    (cd "$tree" && OMP_NUM_THREADS=1 PYTHONPATH="$tree" "$py" -c "import sys; sys.argv = ['videoad', 'extract', '$tmp/videos', '-o', '$tmp/out', $backbone, '--workers', '2', '--batch-size', '64']; from videoad.cli import main; main()" >/dev/null 2>&1)
    end=$(date +%s.%N)
    echo "round $round $tree $(echo "$end - $start" | bc) s"
  done
done
rm -rf "$tmp"
