# The shipped autopet_interactive set's recipe, sourced by the scripts that train it (train_demo_models.sh) or vary it
# (benchmarks/interactive_*.sh); needs $PY. Phantoms: 96 x 96 voxels at half adult size. Network and clicks: 5 levels
# of 16-128 filters, 64^3 crops and windows, 10 click rounds in the DeepGrow mode (click probability 0.5), validation
# after 3 clicks with 4 windows per call.
AUTOPET_RECIPE_FLAGS=(--train_crop_size 64,64,64 --roi_size 64,64,64 --kernel_sizes 3,3,3,3,3
  --strides 1x1x1,2x2x2,2x2x2,2x2x2,1x2x2 --filters 16,32,64,128,128 --train_clicks 10 --click_probability 0.5
  --validation_clicks 3 --validation_batch 4)
# The shipped set's schedule: 80 epochs at 3e-4 in one cosine (docs/interactive.md, "Shipped demo set").
AUTOPET_SCHEDULE_FLAGS=(--epochs 80 --learning_rate 3e-4)
# The shipped sets' split of the 48 phantoms of seed 400 (the set's split seed): 43 trained on, 5 validated.
AUTOPET_TRAIN_FRACTION=0.9

# autopet_phantoms FOLDER CASES SEED: writes that many phantoms of that seed into FOLDER unless it holds them already.
autopet_phantoms() {
  [ -d "$1/imagesTr" ] || \
    $PY -m preprocessing.synthetic autopet --output_folder "$1" --num_cases "$2" --in_plane_size 96 --body_scale 0.5 \
      --seed "$3"
}

# evaluate_unseen SET FOLDER OUTPUT [FLAGS...]: Dice after 0..10 clicks (the set's rule, uniform, unless FLAGS say
# otherwise; seed 0) and --lesion_fit on every case of FOLDER.
evaluate_unseen() {
  $PY -m interactive.evaluate --model_set "$1" --dataset_folder "$2" --cases all --clicks 10 --batch_size 4 \
    --lesion_fit "${@:4}" --output_folder "$3"
}

# export_and_evaluate TRAIN WORK NAME TRAINED_ON: exports the run in TRAIN as WORK/sets/NAME and evaluates it on the
# phantoms of WORK/test into WORK/eval/NAME (evaluate_unseen).
export_and_evaluate() {
  $PY -m interactive.export --load_model_base "$1" --model_set_folder "$2/sets/$3" --trained_on "$4"
  evaluate_unseen "$2/sets/$3" "$2/test" "$2/eval/$3"
}
