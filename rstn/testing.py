"""The original's testing stages on the test cases of a fold, from the training cache and checkpoints:

- coarse (per plane): coarse probabilities of every test case, stored as the original stores them (uint8,
  round(p x 255)), DSC at p >= 0.5;
- oracle (per plane): the fine stage with the ground-truth box, to judge the fine networks alone;
- fusion of coarse or oracle results: DSC per plane, of the sum of the planes' probabilities >= 0.5 / 1.5 / 2.5
  (F1 / F2 / F3) and of those after post-processing (F1P / F2P / F3P);
- coarse-to-fine: round 0 (the coarse mean >= 0.5) and every fine round up to max_rounds, with the DSC per round,
  the inter-round DSC and the DSC at the first round whose inter-round DSC reaches 0.90 / 0.95 / 0.98 / 0.99
  (the original's report), plus NSD and HD95 at the chosen round (`stop_dsc`).

Every stage writes `<results>/<stage>/results.csv` (one row per case) and `summary.txt` (mean, std, min, max per
column), as the original's `results.txt` reports them.
"""
from __future__ import annotations

import csv
import os
from collections.abc import Callable

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from evaluation.metrics import dice, hausdorff_95, normalized_surface_dice
from preprocessing.atomic import atomic_path
from rstn.cache import read_index
from rstn.config import PLANES
from rstn.fusion import FUSION_SUM_THRESHOLDS, coarse_to_fine, mean_of_planes, remove_small_components
from rstn.training import restore_plane
from rstn.volume_inference import fine_probabilities, model_coarse_probabilities, oracle_probabilities

STOP_DSCS = (0.90, 0.95, 0.98, 0.99)


def load_case(cache_folder: str, case_id: str, organ_ids: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(HU volume int16, organ mask uint8) of a cached case, [z, y, x]."""
    volume = np.load(os.path.join(cache_folder, "images", f"{case_id}.npy"))
    labels = np.load(os.path.join(cache_folder, "labels", f"{case_id}.npy"))
    return volume, np.isin(labels, organ_ids).astype(np.uint8)


def save_volume(path: str, volume: np.ndarray) -> None:
    """Writes `volume` as a compressed `.npz` (key 'volume'), atomically."""
    with atomic_path(path) as temp, open(temp, "wb") as handle:
        np.savez_compressed(handle, volume=volume)


def save_probabilities(path: str, probabilities: np.ndarray) -> None:
    """Stores probabilities as the original does: uint8 round(p x 255), compressed."""
    save_volume(path, np.round(probabilities * 255).astype(np.uint8))


def load_probabilities(path: str) -> np.ndarray:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: not found; run the stage that writes it first")
    return np.load(path)["volume"].astype(np.float32) / 255.0


def column_summary(rows: list[dict]) -> list[str]:
    """Mean, std, min and max of every numeric column after the first, one line each."""
    columns = list(rows[0]) if rows else ["case"]
    lines = [f"{len(rows)} case(s)", f"{'':<12} {'mean':>8} {'std':>8} {'min':>8} {'max':>8}"]
    for column in columns[1:]:
        values = np.array([row[column] for row in rows], np.float64)
        values = values[np.isfinite(values)]
        if values.size:
            lines.append(f"{column:<12} {values.mean():>8.4f} {values.std():>8.4f} {values.min():>8.4f} "
                         f"{values.max():>8.4f}")
    return lines


def write_results(folder: str, rows: list[dict],
                  summarize: Callable[[list[dict]], list[str]] = column_summary) -> list[str]:
    """Writes `results.csv` (the rows, floats to 6 decimals) and `summary.txt` (`summarize(rows)`, by default
    mean, std, min, max of every numeric column), atomically; returns the summary lines."""
    os.makedirs(folder, exist_ok=True)
    columns = list(rows[0]) if rows else ["case"]
    with atomic_path(os.path.join(folder, "results.csv")) as temp, open(temp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: f"{v:.6f}" if isinstance(v, float) else v for k, v in row.items()})
    lines = summarize(rows)
    with atomic_path(os.path.join(folder, "summary.txt")) as temp, open(temp, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return lines


def plane_stage(stage: str, cache_folder: str, case_ids: list[str], load_model_base: str, plane: str,
                results_folder: str, slice_batch: int) -> list[str]:
    """Coarse or oracle testing of one plane: stores `<results>/<stage>_<plane>/<case>.npz`; returns the summary."""
    config, model = restore_plane(load_model_base, plane)
    folder = os.path.join(results_folder, f"{stage}_{plane}")
    batch = tf.constant(slice_batch)
    rows = []
    for case_id in tqdm(case_ids, desc=f"{stage} {plane}"):
        volume, target = load_case(cache_folder, case_id, config.organ_ids)
        if stage == "coarse":
            probabilities = model_coarse_probabilities(tf.constant(volume, tf.float32), plane, model, config, batch)
        else:
            probabilities = oracle_probabilities(tf.constant(volume, tf.float32), tf.constant(target), plane,
                                                 model, config, batch)
        probabilities = probabilities.numpy()
        save_probabilities(os.path.join(folder, f"{case_id}.npz"), probabilities)
        rows.append({"case": case_id, "dsc": dice(probabilities >= 0.5, target)})
    return write_results(folder, rows)


def fusion_stage(source: str, cache_folder: str, case_ids: list[str], organ_ids: tuple[int, ...],
                 results_folder: str, postprocess_threshold: float) -> list[str]:
    """Fusion of the three planes' `source` ('coarse' or 'oracle') results."""
    rows = []
    for case_id in tqdm(case_ids, desc=f"{source} fusion"):
        _, target = load_case(cache_folder, case_id, organ_ids)
        planes = {p: load_probabilities(os.path.join(results_folder, f"{source}_{p}", f"{case_id}.npz"))
                  for p in PLANES}
        row: dict = {"case": case_id}
        row.update({f"dsc_{p}": dice(planes[p] >= 0.5, target) for p in PLANES})
        total = sum(planes.values())
        fused = {name: (total >= threshold).astype(np.uint8) for name, threshold in FUSION_SUM_THRESHOLDS.items()}
        row.update({f"dsc_{name}": dice(mask, target) for name, mask in fused.items()})
        row.update({f"dsc_{name}P": dice(remove_small_components(mask, postprocess_threshold), target)
                    for name, mask in fused.items()})
        rows.append(row)
    return write_results(os.path.join(results_folder, f"{source}_fusion"), rows)


def coarse_to_fine_stage(cache_folder: str, case_ids: list[str], load_model_base: str, results_folder: str,
                         slice_batch: int) -> list[str]:
    """Coarse-to-fine testing from the stored coarse results of the three planes."""
    restored = {plane: restore_plane(load_model_base, plane) for plane in PLANES}
    config = restored["X"][0]
    spacings = {case_id: tuple(entry["spacing_mm"]) for case_id, entry in read_index(cache_folder)["cases"].items()}
    batch = tf.constant(slice_batch)
    plane_fine = {plane: tf.function(lambda volume, score, mask, plane=plane, model=model: fine_probabilities(
        volume, score, mask, plane, model, config, batch), reduce_retracing=True)
        for plane, (_, model) in restored.items()}
    rows = []
    for case_id in tqdm(case_ids, desc="coarse-to-fine"):
        volume, target = load_case(cache_folder, case_id, config.organ_ids)
        image = tf.constant(volume, tf.float32)
        coarse = mean_of_planes([load_probabilities(os.path.join(results_folder, f"coarse_{p}", f"{case_id}.npz"))
                                 for p in PLANES])

        def fine(score: np.ndarray, mask: np.ndarray) -> np.ndarray:
            return mean_of_planes([function(image, tf.constant(score), tf.constant(mask)).numpy()
                                   for function in plane_fine.values()])

        rounds = coarse_to_fine(coarse, fine, config.fine_threshold, config.postprocess_threshold, config.max_rounds,
                                config.stop_dsc, run_all_rounds=True)
        scores = [dice(mask, target) for mask in rounds.masks]
        row: dict = {"case": case_id}
        row.update({f"round_{r}": scores[r] if r < len(scores) else scores[-1] for r in range(config.max_rounds + 1)})
        for threshold in STOP_DSCS:
            reached = [r + 1 for r, value in enumerate(rounds.inter_dsc) if value >= threshold]
            row[f"dsc_at_{threshold:.2f}"] = scores[reached[0] if reached else len(scores) - 1]
        final = rounds.final
        row["stop_round"] = float(rounds.stop_round)
        row["nsd"] = normalized_surface_dice(final, target, spacings[case_id])
        row["hd95_mm"] = hausdorff_95(final, target, spacings[case_id])
        save_volume(os.path.join(results_folder, "coarse2fine", f"{case_id}.npz"), final)
        rows.append(row)
    return write_results(os.path.join(results_folder, "coarse2fine"), rows)
