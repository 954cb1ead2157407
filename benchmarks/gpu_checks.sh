#!/usr/bin/env bash
# The GPU checks as one prepared run (a machine with CUDA; see docs/backbones.md):
#   VIDEOAD_DATA=<folder with kddcup99/kdd_cup.npz> bash benchmarks/gpu_checks.sh [OUT_DIR]
# (PyAV is not on the lent H200 machines: carry its wheel, as gpu_checks.md says, or the PyAV
# pipeline rows are recorded as skipped)
# 1. DUAD's fit on CUDA against the same fit on this machine's CPU (bench_gpu_fit.py:
#    KDDCUP99 20% and a 69,000 x 4,096 mixture, the size of UCF-Crime's test set in C3D fc6),
#    then the mixture at 200,000 x 4,096 on CUDA alone (the scale benchmark's large end);
# 2. C3D clips/s: the network alone (fp16 autocast at batches 32/64/128, fp32 at 64 as the
#    baseline of the same run, and uint8 input at 64 as the decode workers send it), then the
#    extraction pipeline over one video per decode worker, per decoder (PyAV, OpenCV), with the
#    uint8 wire and with the float32 one (bench_c3d.py), and the CPU network alone as the CPU
#    baseline. A decoder that is not installed is recorded as skipped;
# 3. the start-up: a spawned decode worker's time to hold its backbone (bench_worker_start.py,
#    against the same copy with torch imported, as before extract.lazy), and the pipeline over
#    14 videos four times longer (12,800 frames, OpenCV, uint8 wire), which with step 2's
#    3,200-frame run separates the fixed cost per run from the steady rate (gpu_checks.md, run 5).
# About six minutes on one H200 (runs 3 and 5 of gpu_checks.md took 271 s and 96 s).
# Each step has its own time limit so that one slow step still leaves the others' figures.
set -u
out=${1:-${OUT:-runs/gpu_checks}}
mkdir -p "$out"
py=${PYTHON:-python3}
threads=$(nproc)
export PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; \
  $py -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"; } 2>&1 | tee "$out/env.txt"
timeout "${FIT_LIMIT:-260}" $py benchmarks/bench_gpu_fit.py --threads "$threads" --json "$out/gpu_fit.json" \
  2>&1 | tee "$out/gpu_fit.log"
timeout "${SCALE_LIMIT:-120}" $py benchmarks/bench_gpu_fit.py --cases mix4096 --rows 200000 --skip-cpu \
  --threads "$threads" --json "$out/gpu_fit_200k.json" 2>&1 | tee "$out/gpu_fit_200k.log"
timeout "${C3D_LIMIT:-260}" $py benchmarks/bench_c3d.py --threads "$threads" --workers 2 --frames 3200 \
  --gpu-workers $((threads - 2)) --json "$out/c3d.json" 2>&1 | tee "$out/c3d.log"
timeout "${START_LIMIT:-60}" $py benchmarks/bench_worker_start.py --workers $((threads - 2)) \
  2>&1 | tee "$out/worker_start.log"
timeout "${LONG_LIMIT:-150}" $py benchmarks/bench_c3d.py --skip-cpu --threads "$threads" --frames 12800 \
  --gpu-batches 64 --gpu-workers $((threads - 2)) --gpu-decoders opencv --gpu-wires uint8 \
  --json "$out/c3d_long.json" 2>&1 | tee "$out/c3d_long.log"
ls -la "$out"
