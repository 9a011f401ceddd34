#!/usr/bin/env bash
# Trains and exports saved_models/cxr_lungs/, the chest X-ray lung set trained on real films, exactly as shipped.
# Usage: bash saved_models/train_cxr_lungs.sh DATA, where DATA holds cxr/ and masks/ of the 704 NLM films with lung
# masks (Montgomery's 138 and Shenzhen's 566, e.g. the 512 x 512 copy's data/ folder; see
# docs/cfcm.md). Folds are written into DATA/setup/cv (seed 0); fold 1's 235 films are held out.
# Recipe: the original's square 256 resize, sigmoid head and squared Dice loss, with the patient's right and left
# lung as two labels, a CPU-sized network (ResNet-18, 16 base filters: 1.1 s per step of 8 on 2 cores) and the
# additions percentile normalisation, augmentation and a weight average; 30 epochs at 1e-3 (38 minutes here).
set -euo pipefail
DATA=${1:?usage: bash saved_models/train_cxr_lungs.sh DATA (a folder with cxr/ and masks/)}
PY=${PY:-.venv/bin/python}
WORK=${WORK:-build/cxr_lungs}
OUT=${OUT:-saved_models}
$PY -m cfcm.train --base_dataset_folder "$DATA" --layout paired --base_output_folder "$WORK" --fold 1 \
  --resnet_depth 18 --base_filters 16 --batch_size 8 --epochs 30 --learning_rate 1e-3 --batch_norm_decay 0.99 \
  --separate_labels --normalization percentile --augment --ema_decay 0.995 --cache ""
$PY -m cfcm.export --load_model_base "$WORK" --model_set_folder "$OUT/cxr_lungs" --trained_on "469 real chest X-rays: Montgomery County (NLM) and Shenzhen (NLM, lung masks by Stirenko et al. 2018), the 512 x 512 copy in rochadiego/MultiResUNet-lung-segmentation, fold 1 training split (seed 0); used under the NLM sets' terms (research use, no redistribution)"
