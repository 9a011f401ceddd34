#!/usr/bin/env bash
# PET only or PET + CT on synthetic AutoPET phantoms (the tables of docs/interactive.md), each arm evaluated with 0..10
# simulated clicks and --lesion_fit on 40 phantoms it never saw (seed 600; 21 with lesions, 19 lesion-free):
# - the recipe of the set shipped 2026-12-06 (the 48 phantoms of seed 400, 43 trained on and 5 validated, 64^3 crops
#   and windows, 10 click rounds in the DeepGrow mode with probability 0.5, Adam 3e-4 for 30 epochs, then resumed to
#   50, seed 0) with PET + CT (an addition), exported after 30 and after 50 epochs; its PET-only twin was the set
#   shipped 2026-12-06 to 2026-12-07, no longer in the repository;
# - the shipped set (PET only, the original's input) and its PET + CT twin: the same 43 phantoms linked, no
#   validation, 80 epochs in one cosine from 3e-4.
# One seed on phantoms: the tables say what the CT adds here, not how the two compare on AutoPET.
# Usage: bash benchmarks/interactive_variants.sh [WORK]  (a WORK of an earlier run resumes its checkpoints;
# about 4 hours 30 minutes on 2 idle CPU cores: 90 + 80 minutes of training, 20 minutes per evaluation)
set -euo pipefail
PY=${PY:-.venv/bin/python}
WORK=${1:-build/interactive_variants}
TRAIN=${TRAIN:-build/demo_models/AutoPET_lesions}
source saved_models/autopet_recipe.sh
mkdir -p "$WORK"
autopet_phantoms "$TRAIN" 48 400
autopet_phantoms "$WORK/test" 40 600
for EPOCHS in 30 50; do
  $PY -m interactive.train --base_dataset_folder "$TRAIN" --base_output_folder "$WORK/PT_CT" \
    --input_channels PT,CT --epochs $EPOCHS --learning_rate 3e-4 --train_fraction "$AUTOPET_TRAIN_FRACTION" \
    "${AUTOPET_RECIPE_FLAGS[@]}"
  export_and_evaluate "$WORK/PT_CT" "$WORK" "PT_CT_$EPOCHS" \
    "synthetic AutoPET phantoms (seed 400), PET + CT, $EPOCHS epochs"
done
evaluate_unseen saved_models/autopet_interactive "$WORK/test" "$WORK/eval/shipped"
$PY benchmarks/link_shipped_split.py "$TRAIN" saved_models/autopet_interactive "$AUTOPET_TRAIN_FRACTION" "$WORK/seen43"
$PY -m interactive.train --base_dataset_folder "$WORK/seen43" --base_output_folder "$WORK/PT_CT_one_cosine80" \
  --input_channels PT,CT --train_fraction 1.0 "${AUTOPET_SCHEDULE_FLAGS[@]}" "${AUTOPET_RECIPE_FLAGS[@]}"
export_and_evaluate "$WORK/PT_CT_one_cosine80" "$WORK" PT_CT_one_cosine80 \
  "the shipped recipe with PET + CT (its 43 synthetic AutoPET phantoms, 80 epochs in one cosine)"
