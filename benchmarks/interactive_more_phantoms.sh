#!/usr/bin/env bash
# More bodies or more passes over the same ones, at the same compute (docs/interactive.md, "On the phantoms it trained
# on"): the shipped set continued for 645 gradient steps (`--init_model_set`: its weights, a fresh Adam at 3.8e-5 on
# the per-epoch cosine, no validation; the shipped recipe's flags otherwise) on the 43 phantoms it trained on
# (15 epochs) or on those and 86 new ones (seed 700; 5 epochs), each evaluated with 0..10 simulated clicks and
# --lesion_fit on the 40 unseen phantoms of the tables (seed 600; 21 with lesions, 19 lesion-free); then a network
# trained from scratch on the 129 bodies at the 2026-12-06 set's compute and schedule (10 epochs at 3e-4, resumed to
# 17: 2193 samples against its 2150, the cosine restarting at about 1.1e-4 as its did at 1.0e-4);
# then the shipped recipe on its 43 bodies without that restart (50 epochs in one cosine from 3e-4); last, the same in a
# longer cosine (80 epochs, the set shipped since 2026-12-07's evening), also evaluated with --click_rule edt_max; then
# what the first click alone does with the two one-cosine sets (interactive.click_reach, unseen and seen phantoms). The
# continuations were measured from the set shipped 2026-12-06 to 2026-12-07 (30 epochs resumed to 50); run now, they
# start from the set shipped now.
# Usage: bash benchmarks/interactive_more_phantoms.sh [WORK]  (a WORK of an earlier run keeps its phantoms and resumes
# from its checkpoints; about 5 hours on 2 idle CPU cores: 13 minutes of training per continuation, 45 per run of
# about 2,150 samples from scratch, 76 for the 80 epochs, 20 of evaluation per arm and for edt_max, 4 per click_reach)
set -euo pipefail
PY=${PY:-.venv/bin/python}
WORK=${1:-build/interactive_more_phantoms}
TRAIN=${TRAIN:-build/demo_models/AutoPET_lesions}
SHIPPED=saved_models/autopet_interactive
source saved_models/autopet_recipe.sh
mkdir -p "$WORK"
autopet_phantoms "$TRAIN" 48 400
autopet_phantoms "$WORK/new" 86 700
autopet_phantoms "$WORK/test" 40 600
# The 43 phantoms of TRAIN the shipped sets trained on into seen43/, and them with the new phantoms into more129/.
$PY benchmarks/link_shipped_split.py "$TRAIN" "$SHIPPED" "$AUTOPET_TRAIN_FRACTION" "$WORK/seen43"
$PY benchmarks/link_shipped_split.py "$TRAIN" "$SHIPPED" "$AUTOPET_TRAIN_FRACTION" "$WORK/more129" "$WORK/new"
for ARM in seen43:15 more129:5; do
  NAME=${ARM%%:*}
  $PY -m interactive.train --base_dataset_folder "$WORK/$NAME" --base_output_folder "$WORK/train_$NAME" \
    --init_model_set "$SHIPPED" --epochs "${ARM##*:}" --learning_rate 3.8e-5 --train_fraction 1.0 \
    "${AUTOPET_RECIPE_FLAGS[@]}"
  export_and_evaluate "$WORK/train_$NAME" "$WORK" "$NAME" \
    "the shipped set continued 645 steps on $NAME (synthetic AutoPET phantoms)"
done
for EPOCHS in 10 17; do
  $PY -m interactive.train --base_dataset_folder "$WORK/more129" --base_output_folder "$WORK/train_scratch129" \
    --epochs $EPOCHS --learning_rate 3e-4 --train_fraction 1.0 "${AUTOPET_RECIPE_FLAGS[@]}"
done
export_and_evaluate "$WORK/train_scratch129" "$WORK" scratch129 \
  "from scratch on 129 synthetic AutoPET phantoms, the shipped recipe's compute"
$PY -m interactive.train --base_dataset_folder "$WORK/seen43" --base_output_folder "$WORK/train_one_cosine" \
  --epochs 50 --learning_rate 3e-4 --train_fraction 1.0 "${AUTOPET_RECIPE_FLAGS[@]}"
export_and_evaluate "$WORK/train_one_cosine" "$WORK" one_cosine \
  "the shipped recipe in one cosine (50 epochs on its 43 synthetic AutoPET phantoms)"
$PY -m interactive.train --base_dataset_folder "$WORK/seen43" --base_output_folder "$WORK/train_one_cosine80" \
  --train_fraction 1.0 "${AUTOPET_SCHEDULE_FLAGS[@]}" "${AUTOPET_RECIPE_FLAGS[@]}"
export_and_evaluate "$WORK/train_one_cosine80" "$WORK" one_cosine80 \
  "the shipped recipe in one cosine of 80 epochs (its 43 synthetic AutoPET phantoms)"
evaluate_unseen "$WORK/sets/one_cosine80" "$WORK/test" "$WORK/eval/one_cosine80_edt_max" --click_rule edt_max
for SET in one_cosine one_cosine80; do
  for DATA in test seen43; do
    $PY -m interactive.click_reach --model_set "$WORK/sets/$SET" --dataset_folder "$WORK/$DATA" --batch_size 4 \
      --output_folder "$WORK/reach/${SET}_$DATA"
  done
done
