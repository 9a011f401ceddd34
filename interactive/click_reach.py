"""What the first simulated click alone changes, and how far from it, on every case with lesions of an AutoPET folder
(`interactive.first_click`): per case the lesion click and the background click of `interactive.evaluate`'s first
round (same rule and seed), each run alone against the prediction without clicks.

Usage: python -m interactive.click_reach --model_set saved_models/autopet_interactive --dataset_folder AUTOPET
       --output_folder OUT [--click_rule uniform] [--seed 0] [--batch_size 1]
Writes OUT/click_reach.json (per case and click type `interactive.first_click.ClickReach`) and prints per case and in
total.
Docs: docs/interactive.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import dataclasses
import json
import math
import os

from absl import app, flags
from tqdm import tqdm

from interactive.config import CLICK_RULES
from interactive.first_click import REACH_BANDS_MM, first_click_reach, reach_lines
from interactive.model_set import interactive_member
from interactive.training import load_case
from interactive.window_logits import window_logits
from preprocessing.atomic import atomic_path
from preprocessing.cases import autopet_cases
from serving.loading import ModelError

flags.DEFINE_string("model_set", "saved_models/autopet_interactive", "Interactive model set folder.")
flags.DEFINE_string("dataset_folder", None, "AutoPET folder (imagesTr/ + labelsTr/, or FDG-PET-CT-Lesions/).")
flags.DEFINE_enum("click_rule", None, list(CLICK_RULES), "Where clicks land (default: the set's training rule).")
flags.DEFINE_integer("seed", 0, "Seed of the simulated clicks (interactive.evaluate's first round).")
flags.DEFINE_integer("batch_size", 1, "Windows per network call.")
flags.DEFINE_string("output_folder", None, "Output folder for click_reach.json.")
flags.mark_flags_as_required(["dataset_folder", "output_folder"])
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    try:
        member, config = interactive_member(FLAGS.model_set)
        cases = autopet_cases(FLAGS.dataset_folder, len(config.input_channels))
    except (OSError, ModelError, ValueError) as error:
        raise app.UsageError(str(error)) from error
    config = dataclasses.replace(config, click_rule=FLAGS.click_rule or config.click_rule)
    predict = window_logits(member.signatures["serving_default"])
    reaches = {}
    for case in tqdm(cases, desc="cases"):
        loaded = load_case(case, config)
        if loaded.label.any():
            reaches[case.case_id] = {kind: dataclasses.asdict(reach) for kind, reach in
                                     first_click_reach(predict, loaded, config, FLAGS.seed, FLAGS.batch_size).items()}
    os.makedirs(FLAGS.output_folder, exist_ok=True)
    summary = {"model_set": FLAGS.model_set, "dataset_folder": FLAGS.dataset_folder, "click_rule": config.click_rule,
               "seed": FLAGS.seed, "bands_mm": [b if math.isfinite(b) else None for b in REACH_BANDS_MM],
               "cases": reaches}
    with atomic_path(os.path.join(FLAGS.output_folder, "click_reach.json")) as temp, open(temp, "w") as handle:
        json.dump(summary, handle, indent=1)
    print("\n".join(reach_lines(reaches)))


if __name__ == "__main__":
    app.run(main)
