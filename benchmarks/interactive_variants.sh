#!/usr/bin/env bash
# PET only or PET + CT on synthetic AutoPET phantoms (the table of docs/interactive.md): the shipped set's recipe
# (saved_models/train_demo_models.sh: the 48 phantoms of seed 400, 64^3 crops and windows, 10 click rounds in the
# DeepGrow mode with probability 0.5, Adam 3e-4 for 30 epochs, then resumed to 50, seed 0) trained with PET + CT
# (an addition), exported after 30 and after 50 epochs, each evaluated with 0..10 simulated clicks and --lesion_fit
# on 40 phantoms it never saw (seed 600; 21 with lesions, 19 lesion-free); then the shipped set, the same recipe with
# PET only (the original), on the same phantoms. One seed on phantoms: the table says what the CT adds here, not how
# the two compare on AutoPET.
# Usage: bash benchmarks/interactive_variants.sh [WORK]  (an empty WORK: training resumes from the checkpoints there;
# about 2 hours 30 minutes on 2 idle CPU cores: 90 minutes of training, 20 minutes per evaluation)
set -euo pipefail
PY=${PY:-.venv/bin/python}
WORK=${1:-build/interactive_variants}
TRAIN=${TRAIN:-build/demo_models/AutoPET_lesions}
mkdir -p "$WORK"
[ -d "$TRAIN/imagesTr" ] || \
  $PY -m preprocessing.synthetic autopet --output_folder "$TRAIN" --num_cases 48 --in_plane_size 96 \
    --body_scale 0.5 --seed 400
[ -d "$WORK/test/imagesTr" ] || \
  $PY -m preprocessing.synthetic autopet --output_folder "$WORK/test" --num_cases 40 --in_plane_size 96 \
    --body_scale 0.5 --seed 600
for EPOCHS in 30 50; do
  $PY -m interactive.train --base_dataset_folder "$TRAIN" --base_output_folder "$WORK/PT_CT" \
    --input_channels PT,CT --epochs $EPOCHS --learning_rate 3e-4 --train_fraction 0.9 \
    --train_crop_size 64,64,64 --roi_size 64,64,64 --kernel_sizes 3,3,3,3,3 \
    --strides 1x1x1,2x2x2,2x2x2,2x2x2,1x2x2 --filters 16,32,64,128,128 --train_clicks 10 \
    --click_probability 0.5 --validation_clicks 3 --validation_batch 4
  $PY -m interactive.export --load_model_base "$WORK/PT_CT" --model_set_folder "$WORK/sets/PT_CT_$EPOCHS" \
    --trained_on "synthetic AutoPET phantoms (seed 400), PET + CT, $EPOCHS epochs"
  $PY -m interactive.evaluate --model_set "$WORK/sets/PT_CT_$EPOCHS" --dataset_folder "$WORK/test" --cases all \
    --clicks 10 --batch_size 4 --lesion_fit --output_folder "$WORK/eval/PT_CT_$EPOCHS"
done
$PY -m interactive.evaluate --model_set saved_models/autopet_interactive --dataset_folder "$WORK/test" \
  --cases all --clicks 10 --batch_size 4 --lesion_fit --output_folder "$WORK/eval/shipped"
