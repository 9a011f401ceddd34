#!/usr/bin/env bash
# Builds a model set for TIMING the paper configuration of the SCN (32/5 local, 16/4 spatial, 2 mm,
# one pass over the organ box in valid sizes up to 160x128x160): one training step on synthetic data (weights are meaningless), exported next to the
# shipped localization so the region is a realistic organ box.
# Usage: bash benchmarks/paper_config_models.sh [OUT=build/paper_config_models]; then
#        python benchmarks/inference_ct.py --saved_models_folder build/paper_config_models
set -euo pipefail
PY=${PY:-.venv/bin/python}
OUT=${OUT:-build/paper_config_models}
WORK=${WORK:-build/paper_config_training}
mkdir -p "$OUT" "$WORK"
[ -d "$WORK/FLARE21/TrainingImg" ] || \
  $PY -m preprocessing.synthetic flare21 --output_folder "$WORK/FLARE21" --num_cases 1 --in_plane_size 256 --seed 1
$PY -m scn.train --base_dataset_folder "$WORK/FLARE21" --base_output_folder "$WORK/scn" --cv 0 --max_iter 1 \
  --test_iter 1
rm -rf "$OUT/flare21"
mkdir -p "$OUT/flare21"
cp -r saved_models/flare21/localization "$OUT/flare21/"
$PY -m scn.export --load_model_base "$WORK/scn" --model_set_folder "$OUT/flare21" \
  --trained_on "one training step on a phantom (timing only)"
