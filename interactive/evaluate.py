"""Dice versus clicks of an interactive model set on an AutoPET folder, the figure the original reports: per case
the prediction without clicks, then after each of up to `--clicks` rounds of simulated corrective clicks (one lesion
click in the missed lesion, one background click in the false lesion, by `--click_rule`), each a sliding window
over the whole volume.

Usage: python -m interactive.evaluate --model_set saved_models/autopet_interactive --dataset_folder AUTOPET
       --output_folder OUT [--cases validation|training|all] [--clicks 10] [--click_rule uniform] [--seed 0]
       [--batch_size 1] [--overlap 0.25] [--bootstrap 1000] [--click_effects] [--lesion_fit]
Writes OUT/dice_vs_clicks.csv (one row per case, Dice after 0..N clicks), OUT/dice_vs_clicks.json (the same with
the mean curve, its 95 % bootstrap interval over cases and, at 0 and N clicks, Dice, NSD and HD95 per case),
OUT/dice_vs_clicks.png (the curves, when a case has lesions). Cases without a lesion have no Dice (as MONAI's
DiceMetric) and are listed apart with their false lesion voxels after 0..N clicks (every click a background click) and
the median over them.
`--click_effects` adds, per case and click round, what the round changed (`interactive.click_effects`: voxels added
and removed, false lesion flooded around the lesion click, true lesion erased around the background click) to the
JSON and prints, per case with lesions, the largest flood and erasure. `--lesion_fit` adds, per case with lesions,
how the prediction at 0 and N clicks fits each lesion (`interactive.lesion_fit`: lesions found, predicted object /
lesion size, false objects, the Dice without them) and the Dice an intensity threshold per lesion could reach on the
image (the threshold ceiling). `--cases validation` takes the cases the training split held out (the config's split
seed and fraction), `--cases training` the cases the set trained on (how well it fits what it saw).
Docs: docs/interactive.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import csv
import dataclasses
import json
import os

import numpy as np
from absl import app, flags
from tqdm import tqdm

from evaluation.bootstrap import mean_intervals
from evaluation.metrics import label_metrics
from evaluation.plots import Line, line_chart
from interactive.config import CLICK_RULES, InteractiveConfig
from interactive.evaluation_report import report_lines
from interactive.lesion_fit import case_fit, threshold_ceiling
from interactive.model_set import interactive_member
from interactive.window_logits import window_logits
from interactive.training import click_curve, load_case, split_cases
from preprocessing.atomic import atomic_path
from preprocessing.cases import Case, autopet_cases
from serving.loading import ModelError

flags.DEFINE_string("model_set", "saved_models/autopet_interactive", "Interactive model set folder.")
flags.DEFINE_string("dataset_folder", None, "AutoPET folder (imagesTr/ + labelsTr/, or FDG-PET-CT-Lesions/).")
flags.DEFINE_enum("cases", "validation", ["validation", "training", "all"],
                  "The training split's held-out cases, the cases it trained on (both on the folder the set "
                  "trained on), or all.")
flags.DEFINE_integer("clicks", 10, "Rounds of simulated clicks.")
flags.DEFINE_enum("click_rule", None, list(CLICK_RULES), "Where clicks land (default: the set's training rule).")
flags.DEFINE_string("output_folder", None, "Output folder for the CSV, JSON and PNG.")
flags.DEFINE_integer("seed", 0, "Seed of the simulated clicks and of the bootstrap.")
flags.DEFINE_integer("bootstrap", 1000, "Bootstrap samples of the mean curve's 95 % interval over cases (0: none; "
                     "none with fewer than two cases with lesions).")
flags.DEFINE_integer("batch_size", 1, "Windows per network call.")
flags.DEFINE_float("overlap", None, "Sliding-window overlap (default: the set's, the original's 0.25).")
flags.DEFINE_boolean("click_effects", False, "Also record what each click round changed (interactive.click_effects).")
flags.DEFINE_boolean("lesion_fit", False, "Also record how the predictions fit each lesion and the threshold ceiling "
                     "(interactive.lesion_fit).")
flags.mark_flags_as_required(["dataset_folder", "output_folder"])
FLAGS = flags.FLAGS


def plot_curves(curves: dict[str, list[float]], mean: list[float], path: str) -> None:
    """A PNG of Dice (y, 0..1) against clicks (x): each case in grey, the mean in blue."""
    clicks = max(len(mean) - 1, 1)
    lines = [Line(np.arange(len(c)), np.asarray(c, np.float64), (170, 170, 170), 1) for c in curves.values()]
    lines.append(Line(np.arange(len(mean)), np.asarray(mean, np.float64)))
    line_chart(lines, list(range(clicks + 1)), [0.0, 0.5, 1.0], "Dice vs clicks (grey: cases, blue: mean)", path)


@dataclasses.dataclass(frozen=True)
class EvaluationInput:
    """What an evaluation runs on, set up before any compute.

    Attributes:
        model_set: the set's folder.
        member: its loaded segmentation SavedModel (`tf.saved_model.load`'s object).
        config: its training config with the evaluation's click rule and overlap.
        dataset_folder: the AutoPET folder.
        which: the `--cases` selection.
        cases: the selected cases (at least one).
    """

    model_set: str
    member: object
    config: InteractiveConfig
    dataset_folder: str
    which: str
    cases: tuple[Case, ...]


def evaluation_input(model_set: str, dataset_folder: str, which: str, click_rule: str | None,
                     overlap: float | None) -> EvaluationInput:
    """Loads the set and lists the selected cases; raises ModelError, ManifestError, OSError (a missing or unreadable
    data folder) or ValueError (a set that is not click-guided, a selection without cases) with one line naming what
    is wrong."""
    member, config = interactive_member(model_set)
    config = dataclasses.replace(config, click_rule=click_rule or config.click_rule,
                                 overlap=config.overlap if overlap is None else overlap)
    cases = autopet_cases(dataset_folder, len(config.input_channels))
    training, validation = split_cases(cases, config)
    cases = {"all": cases, "training": training, "validation": validation}[which]
    if not cases:
        raise ValueError(f"--cases {which} selects none of the cases of {dataset_folder}: the set's split "
                         f"(train_fraction {config.train_fraction}) holds none out; use --cases all on cases it "
                         "has not seen")
    return EvaluationInput(model_set, member, config, dataset_folder, which, tuple(cases))


def evaluate(given: EvaluationInput, clicks: int, seed: int, batch: int, output_folder: str,
             click_effects: bool = False, lesion_fit: bool = False, bootstrap: int = 1000) -> dict:
    """Runs the evaluation of `given` (`evaluation_input`) and writes its files into `output_folder`; returns the JSON
    summary ("mean_interval": per click count the bootstrap's (mean, lower, upper) of the mean Dice over cases,
    `bootstrap` samples; absent when 0 or with fewer than two cases with lesions)."""
    config = given.config
    predict = window_logits(given.member.signatures["serving_default"])
    pet_channel = config.input_channels.index("PT") if "PT" in config.input_channels else 0

    curves, lesion_free, metrics, effects, fits = {}, [], {}, {}, {}
    for case in tqdm(given.cases, desc="cases"):
        loaded = load_case(case, config)
        curve = click_curve(predict, loaded, config, clicks, seed, batch, click_effects)
        if click_effects:
            effects[case.case_id] = [dataclasses.asdict(effect) for effect in curve.effects]
        if not loaded.label.any():
            lesion_free.append({"case": case.case_id, "false_lesion_voxels": curve.predicted_voxels})
            continue
        curves[case.case_id] = curve.dice
        ends = ((0, curve.first), (clicks, curve.last))
        metrics[case.case_id] = {f"{n}_clicks": label_metrics(p.astype(np.uint8), loaded.label, [1],
                                                               config.spacing_mm)[1] for n, p in ends}
        if lesion_fit:
            target = loaded.label > 0
            fits[case.case_id] = {f"{n}_clicks": case_fit(p, target).summary() for n, p in ends}
            fits[case.case_id]["threshold_ceiling"] = threshold_ceiling(loaded.image[..., pet_channel], target)
    mean = [float(np.mean([c[i] for c in curves.values()])) for i in range(clicks + 1)] if curves else []
    os.makedirs(output_folder, exist_ok=True)
    with atomic_path(os.path.join(output_folder, "dice_vs_clicks.csv")) as temp, open(temp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case"] + [f"dice_{i}_clicks" for i in range(clicks + 1)])
        for name, scores in curves.items():
            writer.writerow([name] + [f"{v:.4f}" for v in scores])
        if curves:
            writer.writerow(["mean"] + [f"{v:.4f}" for v in mean])
    summary = {"model_set": given.model_set, "dataset_folder": given.dataset_folder, "cases": given.which,
               "click_rule": config.click_rule, "seed": seed, "mean": mean, "per_case": curves, "metrics": metrics,
               "lesion_free": lesion_free}
    if len(curves) > 1 and bootstrap:
        summary["mean_interval"] = mean_intervals(np.asarray(list(curves.values())), bootstrap, seed=seed)
    if click_effects:
        summary["click_effects"] = effects
    if lesion_fit:
        summary["lesion_fit"] = fits
    with atomic_path(os.path.join(output_folder, "dice_vs_clicks.json")) as temp, open(temp, "w") as handle:
        json.dump(summary, handle, indent=1)
    if curves:
        plot_curves(curves, mean, os.path.join(output_folder, "dice_vs_clicks.png"))
    return summary


def main(argv: list[str]) -> None:
    del argv
    output = FLAGS.output_folder
    try:
        given = evaluation_input(FLAGS.model_set, FLAGS.dataset_folder, FLAGS.cases, FLAGS.click_rule, FLAGS.overlap)
    except (OSError, ModelError, ValueError) as error:
        raise app.UsageError(str(error)) from error
    summary = evaluate(given, FLAGS.clicks, FLAGS.seed, FLAGS.batch_size, output, FLAGS.click_effects,
                       FLAGS.lesion_fit, FLAGS.bootstrap)
    for line in report_lines(summary, FLAGS.clicks):
        print(line)
    print(f"wrote {output}/dice_vs_clicks.csv, .json" + (", .png" if summary["per_case"] else ""))


if __name__ == "__main__":
    app.run(main)
