#!/usr/bin/env bash
# The GPU checks as one prepared run (a machine with CUDA; see docs/backbones.md):
#   VIDEOAD_DATA=<folder with kddcup99/kdd_cup.npz> bash benchmarks/gpu_checks.sh [OUT_DIR]
# 1. DUAD's fit on CUDA against the same fit on this machine's CPU (bench_gpu_fit.py:
#    KDDCUP99 20% and a 69,000 x 4,096 mixture, the size of UCF-Crime's test set in C3D fc6),
#    then the mixture at 200,000 x 4,096 on CUDA alone (the scale benchmark's large end);
# 2. C3D clips/s: the network alone (fp16 autocast at batches 32/64/128, fp32 at 64 as the
#    baseline of the same run, and uint8 input at 64 as the decode workers send it), then the
#    extraction pipeline over one video per decode worker, per decoder (PyAV, OpenCV), with the
#    uint8 wire and with the float32 one (bench_c3d.py), and the CPU network alone as the CPU
#    baseline. A decoder that is not installed is recorded as skipped.
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
ls -la "$out"
