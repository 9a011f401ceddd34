#!/usr/bin/env bash
# Interactive variants compared on synthetic AutoPET phantoms (the "PET only or PET + CT" table of
# docs/interactive.md): the same short demo recipe (10 epochs of 32 steps, 64^3 crops and windows, 3 click rounds
# per step, seed 0) trained with PET only (the original) and with PET + CT (an addition), each exported and
# evaluated with 0..10 simulated clicks on 12 phantoms neither saw (seed 500). The shipped set is then evaluated
# with 0..10 clicks on the same phantoms. One seed on phantoms: the table says which variant learns faster here, not
# how they compare on AutoPET. Usage: bash benchmarks/interactive_variants.sh [WORK]  (about 50 minutes on 2 idle
# CPU cores)
set -euo pipefail
PY=${PY:-.venv/bin/python}
WORK=${1:-build/interactive_variants}
TRAIN=${TRAIN:-build/demo_models/AutoPET}
mkdir -p "$WORK"
[ -d "$TRAIN/imagesTr" ] || \
  $PY -m preprocessing.synthetic autopet --output_folder "$TRAIN" --num_cases 36 --in_plane_size 96 \
    --body_scale 0.5 --seed 400
[ -d "$WORK/test/imagesTr" ] || \
  $PY -m preprocessing.synthetic autopet --output_folder "$WORK/test" --num_cases 12 --in_plane_size 96 \
    --body_scale 0.5 --seed 500
for channels in PT PT,CT; do
  name=${channels/,/_}
  $PY -m interactive.train --base_dataset_folder "$TRAIN" --base_output_folder "$WORK/$name" \
    --input_channels "$channels" --epochs 10 --learning_rate 3e-4 --train_fraction 0.9 \
    --train_crop_size 64,64,64 --roi_size 64,64,64 --kernel_sizes 3,3,3,3,3 \
    --strides 1x1x1,2x2x2,2x2x2,2x2x2,1x2x2 --filters 16,32,64,128,128 --train_clicks 3 --validation_clicks 3 \
    --validation_batch 4
  $PY -m interactive.export --load_model_base "$WORK/$name" --model_set_folder "$WORK/sets/$name" \
    --trained_on "synthetic AutoPET phantoms (seed 400), variant comparison"
  $PY -m interactive.evaluate --model_set "$WORK/sets/$name" --dataset_folder "$WORK/test" --cases all \
    --clicks 10 --batch_size 4 --output_folder "$WORK/eval/$name"
done
$PY -m interactive.evaluate --model_set saved_models/autopet_interactive --dataset_folder "$WORK/test" \
  --cases all --clicks 10 --batch_size 4 --output_folder "$WORK/eval/shipped_uniform"
