# The two commands: `make demo` and `make test`. Both create .venv and install the project first.
PYTHON_BOOTSTRAP ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo_output

.PHONY: install test demo demo-models docker-test clean

install: $(STAMP)

# MONAI Label's client (the one 3D Slicer's module embeds) drives the server tests; --no-deps: it needs only requests.
$(STAMP): setup.py
	test -x $(PY) || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps monailabel==0.8.5
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q --durations=20 -n auto --maxprocesses 4 --dist loadfile tests

demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(PY) -m preprocessing.synthetic flare21 --output_folder $(DEMO_DIR)/FLARE21 --num_cases 0 --num_validation_cases 3 --in_plane_size 256 --seed 2026
	$(PY) -m inference --input_path $(DEMO_DIR)/FLARE21/ValidationImg --output_path $(DEMO_DIR)/predictions --saved_models_folder saved_models
	$(PY) -m inference.evaluate --prediction_path $(DEMO_DIR)/predictions --reference_path $(DEMO_DIR)/FLARE21/ValidationMask
	$(PY) -m preprocessing.synthetic montgomery --output_folder $(DEMO_DIR)/Montgomery --num_cases 3 --max_side 1500 --seed 2026
	$(PY) -m inference --input_path $(DEMO_DIR)/Montgomery/CXR_png --output_path $(DEMO_DIR)/xray_predictions --saved_models_folder saved_models
	$(PY) -m inference.evaluate --prediction_path $(DEMO_DIR)/xray_predictions --reference_path $(DEMO_DIR)/Montgomery/ManualMask
	$(PY) -m preprocessing.synthetic nih_pancreas --output_folder $(DEMO_DIR)/NIH --num_cases 2 --in_plane_size 192 --seed 2026
	$(PY) -m rstn.evaluate --dataset_folder $(DEMO_DIR)/NIH --model_set saved_models/pancreas_rstn --output_folder $(DEMO_DIR)/pancreas_evaluation --slice_batch 8
	$(PY) -m preprocessing.synthetic autopet --output_folder $(DEMO_DIR)/AutoPET --num_cases 3 --in_plane_size 96 --body_scale 0.5 --seed 2026
	$(PY) -m inference --model autopet_interactive --input_path $(DEMO_DIR)/AutoPET/imagesTr --output_path $(DEMO_DIR)/lesion_predictions --saved_models_folder saved_models
	$(PY) -m interactive.evaluate --model_set saved_models/autopet_interactive --dataset_folder $(DEMO_DIR)/AutoPET --cases all --clicks 5 --output_folder $(DEMO_DIR)/lesion_clicks
	$(PY) -m preprocessing.synthetic lidc --output_folder $(DEMO_DIR)/LIDC --num_cases 4 --in_plane_size 192 --field_of_view_mm 230,260 --axial_extent_mm 110,140 --seed 2026
	$(PY) -m inference --model lidc_nodules --input_path $(DEMO_DIR)/LIDC/LIDC-IDRI --output_path $(DEMO_DIR)/nodule_predictions --saved_models_folder saved_models
	$(PY) -m nodules.evaluate --model_set saved_models/lidc_nodules --dataset_folder $(DEMO_DIR)/LIDC --output_folder $(DEMO_DIR)/nodule_evaluation

demo-models: $(STAMP)
	PY=$(PY) bash saved_models/train_demo_models.sh

docker-test: $(STAMP)
	$(PY) -m tests.docker.check_image

clean:
	rm -rf $(VENV) $(DEMO_DIR)
