"""The printed report of `interactive.evaluate`: rows per click count (each case's Dice, the mean and its interval,
the lesion-free cases' false lesion voxels), the click effects and the lesion fits, from the evaluation's JSON
summary. Pure functions; no flags, so tests and other tools import it freely."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def click_row(label: str, values: Iterable, spec: str) -> str:
    """One printed row of the per-click tables: `label` in 24 characters, then each value formatted by `spec`."""
    return f"{label:<24}" + "".join(format(value, spec) for value in values)


def lesion_free_lines(lesion_free: list[dict]) -> list[str]:
    """Per lesion-free case its false lesion voxels (network grid) after 0, 1, ..., N clicks (all background clicks),
    then their median over those cases."""
    lines = [click_row(case["case"], case["false_lesion_voxels"], "7d")
             + "  (no lesion: false lesion voxels after N clicks)" for case in lesion_free]
    if lesion_free:
        median = np.median([case["false_lesion_voxels"] for case in lesion_free], axis=0)
        lines.append(click_row("median, no lesion", median, "7.0f")
                     + f"  (false lesion voxels; lesion-free cases: {len(lesion_free)})")
    return lines


def effect_lines(effects: dict[str, list[dict]]) -> list[str]:
    """Per case with click rounds, its largest flood and largest erasure (`ClickEffect`) and the click round."""
    lines = []
    for name, rounds in effects.items():
        if not rounds:
            continue
        flood = max(range(len(rounds)), key=lambda r: rounds[r]["false_added_at_lesion_click"])
        erase = max(range(len(rounds)), key=lambda r: rounds[r]["lesion_removed_at_background_click"])
        lines.append(f"{name:<24} largest flood {rounds[flood]['false_added_at_lesion_click']} false lesion voxels "
                     f"(click {flood + 1}), largest erasure {rounds[erase]['lesion_removed_at_background_click']} "
                     f"lesion voxels (click {erase + 1})")
    return lines


def fit_lines(fits: dict[str, dict], clicks: int) -> list[str]:
    """Per case with lesions, how its predictions at 0 and `clicks` clicks fit the lesions
    (`interactive.lesion_fit.CaseFit.summary`) and its threshold ceiling; then the means of the ceiling and of the
    Dice without false objects."""
    def fit(summary: dict) -> str:
        return (f"found {summary['lesions_found']}/{summary['lesions']}, objects "
                f"{summary['median_object_to_lesion']:.1f}x the lesion, {summary['false_objects']} false objects "
                f"({summary['false_object_voxels']} voxels; Dice without them "
                f"{summary['dice_without_false_objects']:.3f})")

    lines = [f"{name:<24} 0 clicks: {fit(case['0_clicks'])}; "
             + (f"{clicks}: {fit(case[f'{clicks}_clicks'])}; " if clicks else "")
             + f"threshold ceiling {case['threshold_ceiling']:.3f}" for name, case in fits.items()]
    if fits:
        ceiling = np.mean([case["threshold_ceiling"] for case in fits.values()])
        counts = sorted({0, clicks})
        without = [np.mean([case[f"{n}_clicks"]["dice_without_false_objects"] for case in fits.values()])
                   for n in counts]
        lines.append(f"{'mean':<24} threshold ceiling {ceiling:.3f} (Dice of each lesion's best intensity threshold); "
                     f"Dice without false objects {' / '.join(f'{v:.3f}' for v in without)} "
                     f"({' / '.join(map(str, counts))} clicks)")
    return lines


def report_lines(summary: dict, clicks: int) -> list[str]:
    """The printed report of `evaluate`'s summary: the click counts, each case's Dice and the mean (with its
    interval), the lesion-free cases' false voxels, the click effects and the lesion fits; the Dice rows and their
    label only where a case has lesions."""
    dice = summary["per_case"]
    lines = [click_row("case", range(clicks + 1), ">7") + ("  (Dice after N clicks)" if dice else "")]
    lines += [click_row(name, curve, "7.3f") for name, curve in dice.items()]
    if summary["mean"]:
        lines.append(click_row("mean", summary["mean"], "7.3f"))
    if "mean_interval" in summary:
        lines += [click_row(name, [v[bound] for v in summary["mean_interval"]], "7.3f")
                  for name, bound in (("95% interval, lower", 1), ("95% interval, upper", 2))]
    lines += lesion_free_lines(summary["lesion_free"])
    lines += effect_lines({name: rounds for name, rounds in summary.get("click_effects", {}).items() if name in dice})
    return lines + fit_lines(summary.get("lesion_fit", {}), clicks)
