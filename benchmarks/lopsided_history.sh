#!/bin/bash
# Builds the history frame folders of benchmarks/results/lopsided_history.md under /tmp/lopsided_scratch/hist
set -e
T=/work/shared/data/ucsd_ped2/training/frames
H=/tmp/lopsided_scratch/hist
rm -rf $H; mkdir -p $H
cut() {  # cut N PARENT NAME SRC: the first 16 + 4 (N-1) frames of training clip SRC as PARENT/NAME
  mkdir -p $2/$3; n=$((16 + 4 * ($1 - 1)))
  ls $T/$4 | sort | head -n $n | while read f; do cp $T/$4/$f $2/$3/; done
}
concat() {  # concat DEST CLIP...: training clips joined into one frame folder
  d=$1; shift; mkdir -p $d; i=0
  for c in "$@"; do for f in $(ls $T/$c | sort); do cp $T/$c/$f $d/$(printf %05d $i).jpg; i=$((i+1)); done; done
}
# b: two clips of similar length
mkdir -p $H/b; cp -r $T/04 $T/05 $H/b/
# c: one long video (training 01-08 joined, 1,230 frames) + a cut of 09 of N clips
for n in 1 2 4 8; do mkdir -p $H/c$n; concat $H/c$n/long 01 02 03 04 05 06 07 08; cut $n $H/c$n tiny 09; done
# c-whole: one whole clip (04, 42 clips; needs --min-clips 40) + a cut of 05 of N clips
for n in 1 2 4 8; do mkdir -p $H/w$n; cp -r $T/04 $H/w$n/; cut $n $H/w$n tiny 05; done
# d: three whole clips + a 1-clip cut of 09; and all 16 but 09 + a 1-clip cut of 09
mkdir -p $H/d3; cp -r $T/04 $T/05 $T/06 $H/d3/; cut 1 $H/d3 tiny 09
mkdir -p $H/d15; for c in 01 02 03 04 05 06 07 08 10 11 12 13 14 15 16; do cp -r $T/$c $H/d15/; done; cut 1 $H/d15 tiny 09
mkdir -p $H/c0 $H/w0; cp -r $H/c1/long $H/c0/; cp -r $T/04 $H/w0/   # one-video histories: what the fallback gives
# features: the training clips (a), each history, and the scored store (test 01-02 + training 10-16 as t10..t16)
V="env PYTHONPATH=. OMP_NUM_THREADS=1 .venv/bin/python -m videoad"
S=/tmp/lopsided_scratch
$V extract /work/shared/data/ucsd_ped2/testing/frames --image-fps 10 -o $S/f_test -q
$V extract $T --image-fps 10 -o $S/f_a -q
for h in b c0 c1 c2 c4 c8 w0 w1 w2 w4 w8 d3 d15; do $V extract $H/$h --image-fps 10 -o $S/f_$h -q; done
mkdir -p $S/f_score; cp $S/f_test/0[12].h5 $S/f_score/; for c in 10 11 12 13 14 15 16; do cp $S/f_a/$c.h5 $S/f_score/t$c.h5; done
.venv/bin/python - <<PY
import json
m = json.load(open('$S/f_test/manifest.json')); a = json.load(open('$S/f_a/manifest.json'))
m['videos'].update({f't{c}': a['videos'][f'{c}'] for c in range(10, 17)})
m['keys'] = sorted(m['videos']); m['n_videos_total'] = len(m['keys'])
json.dump(m, open('$S/f_score/manifest.json', 'w'))
PY
for h in a b c0 c1 c2 c4 c8 d3 d15; do $V detect $S/f_score --pooled --fit-on $S/f_$h -o $S/s_$h > $S/log_$h.txt 2>&1; done
for h in w0 w1 w2 w4 w8; do $V detect $S/f_score --pooled --fit-on $S/f_$h --min-clips 40 -o $S/s_$h > $S/log_$h.txt 2>&1; done
.venv/bin/python benchmarks/lopsided_tally.py a b c1 c2 c4 c8 c0 w1 w2 w4 w8 w0 d3 d15
