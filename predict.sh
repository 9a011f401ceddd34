#!/usr/bin/env bash
# Batch inference: segments every image in $INPUT_DIR into $OUTPUT_DIR (FLARE naming, input geometry kept).
# Defaults are the container's paths; override them to run outside Docker:
#   INPUT_DIR=in OUTPUT_DIR=out PYTHON=.venv/bin/python ./predict.sh [extra flags of python -m inference]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
INPUT_DIR="$(realpath -m "${INPUT_DIR:-/workspace/inputs}")"
OUTPUT_DIR="$(realpath -m "${OUTPUT_DIR:-/workspace/outputs}")"
SAVED_MODELS="$(realpath -m "${SAVED_MODELS:-$here/saved_models}")"
PYTHON="${PYTHON:-python3}"
cd "$here"
exec "$PYTHON" -m inference --input_path "$INPUT_DIR" --output_path "$OUTPUT_DIR" \
  --saved_models_folder "$SAVED_MODELS" "$@"
