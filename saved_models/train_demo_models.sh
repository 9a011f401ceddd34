#!/usr/bin/env bash
# Trains the small demo model sets shipped in saved_models/ (flare21/, pancreas_rstn/, autopet_interactive/,
# lidc_nodules/) on synthetic phantoms (FLARE21, NIH Pancreas-CT, AutoPET and LIDC-IDRI layouts) and exports them
# (cxr_lungs/ is trained on real chest X-rays: saved_models/train_cxr_lungs.sh). Demo configuration (CPU-sized):
# fewer filters and levels, 4 mm segmentation spacing with valid sizes scaled to it, RSTN with 16 base filters, 256
# fc filters and Adam on portal-venous phantoms,
# a small DynUNet on 64^3 windows, a narrow nodule detector, a few thousand iterations. The paper defaults are in
# localization/config.py, scn/config.py, cfcm/config.py, rstn/config.py, interactive/config.py and
# nodules/config.py. Reruns resume from the checkpoints in $WORK.
set -euo pipefail
PY=${PY:-.venv/bin/python}
WORK=${WORK:-build/demo_models}
OUT=${OUT:-saved_models}
mkdir -p "$WORK"
[ -d "$WORK/FLARE21/TrainingImg" ] || \
  $PY -m preprocessing.synthetic flare21 --output_folder "$WORK/FLARE21" --num_cases 12 --in_plane_size 256 --seed 100
$PY -m localization.train --base_dataset_folder "$WORK/FLARE21" --base_output_folder "$WORK/localization" \
  --cv 1 --max_iter 2000 --test_iter 500 --num_filters 16 --num_levels 4 \
  --learning_rate 5e-4 --ema_decay 0.99 --cache ""
$PY -m scn.train --base_dataset_folder "$WORK/FLARE21" --base_output_folder "$WORK/scn" \
  --cv 1 --max_iter 5000 --test_iter 500 --local_filters 16 --local_levels 4 --spatial_filters 8 \
  --spatial_levels 3 --valid_sizes 32,48,64,80/32,48,64/32,48,64,80 --spacing 4 --learning_rate 5e-4 --ema_decay 0.995 --cache ""
CT_DATA="synthetic phantoms (preprocessing.synthetic flare21: 12 CT volumes, seed 100); demo only, never seen a real scan"
$PY -m localization.export --load_model_base "$WORK/localization" --model_set_folder "$OUT/flare21"
$PY -m scn.export --load_model_base "$WORK/scn" --model_set_folder "$OUT/flare21" --trained_on "$CT_DATA" --default_set
# NIH phantoms in the portal-venous phase (the pancreas enhanced and wrapped in fat, as NIH Pancreas-CT is).
[ -d "$WORK/NIH_portal_venous/Pancreas-CT" ] || \
  $PY -m preprocessing.synthetic nih_pancreas --output_folder "$WORK/NIH_portal_venous" --num_cases 32 \
    --in_plane_size 192 --seed 300
[ -f "$WORK/rstn_cache_portal_venous/cases.json" ] || \
  $PY -m rstn.prepare --dataset_folder "$WORK/NIH_portal_venous" --cache_folder "$WORK/rstn_cache_portal_venous"
# Adam (an addition); plane Z at 1e-4 with the original's epochs (2, 6, 8). At 1e-4 plane X's networks saturated to
# empty output within 400 steps, with or without the prior: planes X and Y train at 3e-5 with the score layers
# started at a 0.01 prior (an addition). Plane Y has 4.8x as many slices as X: 1 + 2 + 8 epochs (15191 steps).
RSTN_FLAGS=(--cache_folder "$WORK/rstn_cache_portal_venous" --base_output_folder "$WORK/rstn_portal_venous" --fold 1
  --optimizer adam --base_filters 16 --fc_filters 256)
$PY -m rstn.train "${RSTN_FLAGS[@]}" --plane Z --learning_rate 1e-4
$PY -m rstn.train "${RSTN_FLAGS[@]}" --plane X --learning_rate 3e-5 --prior_probability 0.01
$PY -m rstn.train "${RSTN_FLAGS[@]}" --plane Y --learning_rate 3e-5 --prior_probability 0.01 --epochs 1,2,8
NIH_DATA="synthetic phantoms (preprocessing.synthetic nih_pancreas, portal-venous: 24 CT volumes of 192x192 pixels, seed 300, fold 1 held out); demo only, never seen a real scan"
$PY -m rstn.export --load_model_base "$WORK/rstn_portal_venous" --model_set_folder "$OUT/pancreas_rstn" --trained_on "$NIH_DATA"
# AutoPET phantoms with AutoPET-sized lesions (about half of them lesion-free).
source saved_models/autopet_recipe.sh
autopet_phantoms "$WORK/AutoPET_lesions" 48 400
# Click-guided DynUNet: 5 levels of 16-128 filters, 64^3 crops and windows, 10 click rounds in the DeepGrow mode
# (a sample is clicked with probability 0.5, each round adds clicks with 0.5) (the original: 6 levels of 32-320,
# 224^3 crops, 128^3 windows, 10 rounds on every sample), 80 epochs at 3e-4 in one cosine (the sets shipped before
# trained 30 epochs resumed to 50, restarting the cosine, then 50 in one: docs/interactive.md, "Shipped demo set").
$PY -m interactive.train --base_dataset_folder "$WORK/AutoPET_lesions" \
  --base_output_folder "$WORK/interactive_lesions" --train_fraction "$AUTOPET_TRAIN_FRACTION" "${AUTOPET_SCHEDULE_FLAGS[@]}" \
  "${AUTOPET_RECIPE_FLAGS[@]}"
PET_DATA="synthetic phantoms with AutoPET-sized lesions (preprocessing.synthetic autopet: 48 whole-body PET volumes of 96x96 voxels at half adult size, seed 400, 43 trained on); demo only, never seen a real scan"
$PY -m interactive.export --load_model_base "$WORK/interactive_lesions" --model_set_folder "$OUT/autopet_interactive" \
  --trained_on "$PET_DATA"
[ -d "$WORK/LIDC/LIDC-IDRI" ] || \
  $PY -m preprocessing.synthetic lidc --output_folder "$WORK/LIDC" --num_cases 32 --in_plane_size 192 \
    --field_of_view_mm 230,260 --axial_extent_mm 110,140 --seed 500
[ -f "$WORK/lidc_cache/cases.json" ] || \
  $PY -m nodules.prepare --dataset_folder "$WORK/LIDC" --cache_folder "$WORK/lidc_cache" --num_folds 8
# DeepLung detector at a quarter of the widths (8; 16-32; 64, 32), fewer blocks, no head dropout, 64^3 crops,
# batch 4, 40 epochs at the original's 0.01 with the output's logit biases started at a 0.01 prior (the addition
# that keeps the narrow head alive: without it the head went silent and the classification loss stayed at ln 2);
# the original: 24; 32-64; 128, 64 with dropout 0.5 at 96^3, batch 64, 150 epochs. The crop model on 32^3 crops,
# 4 levels of 8-64.
$PY -m nodules.train_detector --cache_folder "$WORK/lidc_cache" --base_output_folder "$WORK/nodule_detector" \
  --fold 1 --epochs 40 --batch_size 4 --crop_size 64,64,64 --filters_pre 8 --filters_forward 16,32,32,32 \
  --blocks_forward 1,1,2,2 --filters_backward 64,32 --blocks_backward 2,2 --head_filters 32 --dropout 0 \
  --prior_probability 0.01 --learning_rate 0.01 --test_side 96 --test_margin 16
$PY -m nodules.train_crop_model --cache_folder "$WORK/lidc_cache" --base_output_folder "$WORK/nodule_crop_model" \
  --fold 1 --epochs 60 --batch_size 4 --crop_size 32,32,32 --kernel_sizes 3,3,3,3 --strides 1x1x1,2x2x2,2x2x2,2x2x2 \
  --filters 8,16,32,64
LIDC_DATA="synthetic phantoms (preprocessing.synthetic lidc: 32 chest CT series of 192x192 pixels with simulated LIDC readings, seed 500, 28 trained on); demo only, never seen a real scan"
$PY -m nodules.export --load_detector "$WORK/nodule_detector" --load_crop_model "$WORK/nodule_crop_model" \
  --model_set_folder "$OUT/lidc_nodules" --trained_on "$LIDC_DATA"
