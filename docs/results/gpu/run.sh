#!/bin/bash
# The device half of the 2026-11-30 GPU round (docs/quality.md, the GPU-round bullet): the commands
# that ran on one H200 (16 CPU cores), from the repository root, with TE=2 SE=2 TB=4.5 SB=2,
# over six calls of the lent machine: the teacher's parts and the training pairs went over in
# the first two (the first also timed a training step: MPNet 48 ms at batch 64, MiniLM 19 ms),
# the third brought the student and the transfer pairs and ran everything down to the two
# students, the fourth and fifth brought the teacher back, the sixth ran the third student.
# transfer.py was then a copy outside the repository, under D; 803 s of device time in all.
#
# Before it, on the CPU machine:
#   python -m stream_guard.train --data ../shared/data/dev --work-dir W --records-per-dataset 5000 \
#       --summedits-repeats 4 --dump-examples examples.jsonl.gz                  # 110,442 pairs
#   python -m stream_guard.train --data ../shared/data/dev --work-dir W --records-per-dataset 10000 \
#       --summedits-repeats 4 --seed 14 --dump-examples transfer.jsonl.gz        # 198,991 pairs
#   python docs/results/gpu/transfer.py pack all-mpnet-base-v2 t --mode teacher --chunk-mb 27
#   python docs/results/gpu/transfer.py pack v3/best s --mode student --chunk-mb 30
# (v3/best was then v3's own checkpoint; it did not outlive that machine. A later round needs
# no student transfer: `--init-from stream_guard/models/detector` recovers the shipped
# detector's weights from its graph, on the device, into the work dir's init-from-onnx/.)
# and D/data holds summedits_dev and begin_dev (the tune halves pick checkpoints).
set -u
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true
D=/root/dv
TE=${TE:-2} SE=${SE:-2} TB=${TB:-4.5} SB=${SB:-2}
python3 docs/results/gpu/transfer.py unpack $D/t $D/mpnet || exit 3
python3 docs/results/gpu/transfer.py unpack $D/s $D/minilm || exit 3
T="python3 -m stream_guard.train --data $D/data --threads 16"
# The teacher: MPNet fine-tuned on the training pairs.
$T --examples $D/examples.jsonl.gz --base-model $D/mpnet --work-dir $D/T --epochs $TE \
  --batch-size 64 --learning-rate 3e-5 --eval-minutes 1.0 --budget-minutes $TB --tune-records 500
# Its P(supported) on the transfer pairs (all of HaluEval, summedits_train x4, fresh edits).
$T --examples $D/transfer.jsonl.gz --base-model $D/mpnet --init-from $D/T/best --predict $D/soft.npy
# MiniLM students from v3 on the transfer pairs: distilled (0.7 teacher), and a control on the
# gold labels alone, same pairs, order and recipe.
for run in distilled control; do
  extra=""; [ $run = distilled ] && extra="--soft-labels $D/soft.npy --distill-weight 0.7"
  $T --examples $D/transfer.jsonl.gz --base-model $D/minilm --init-from $D/minilm --work-dir $D/$run \
    --epochs $SE --batch-size 128 --learning-rate 4e-5 --eval-minutes 0.5 --budget-minutes $SB \
    --tune-records 500 $extra
  python3 docs/results/gpu/transfer.py split $D/$run/best $OUT/$run
done
# A third student, the teacher's distribution alone at a lower rate (run as its own call).
$T --examples $D/transfer.jsonl.gz --base-model $D/minilm --init-from $D/minilm --work-dir $D/d2 \
  --epochs 1 --batch-size 128 --learning-rate 2e-5 --eval-minutes 0.2 --budget-minutes 1.3 \
  --tune-records 500 --soft-labels $D/soft.npy --distill-weight 1.0
python3 docs/results/gpu/transfer.py split $D/d2/best $OUT/d2
# The teacher back (int8 round trip, as it went there): 7 parts over two calls.
python3 docs/results/gpu/transfer.py pack $D/T/best $OUT/teacher --mode teacher --chunk-mb 15.9
