# The two commands: `make demo` and `make test`. Both create .venv and install the project first.
PYTHON_BOOTSTRAP ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo_output
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install test demo clean

install: $(STAMP)

$(STAMP): setup.py
	test -x $(PY) || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q tests

demo: $(STAMP)
	$(PY) -m preprocessing.synthetic flare21 --output_folder $(DEMO_DIR)/FLARE21 --num_cases 2 --num_validation_cases 1 --seed 0
	$(PY) -m preprocessing.synthetic montgomery --output_folder $(DEMO_DIR)/Montgomery --num_cases 2 --seed 0
	$(PY) -m preprocessing.downsample --base_dataset_folder $(DEMO_DIR)/FLARE21

clean:
	rm -rf $(VENV) $(DEMO_DIR)
