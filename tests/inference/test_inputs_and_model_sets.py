"""Cases from input files (nnU-Net channel files, side inputs) and the choice of a model set per input."""
import pytest

from inference.inputs import group_cases, missing_channels, with_side_inputs
from inference.model_sets import ModelChoiceError, ModelSet, choose_model_set


def test_channel_files_group_into_cases_in_channel_order(tmp_path):
    paths = [f"/in/{n}" for n in ("b_0001.nii.gz", "a_0000.nii.gz", "b_0000.nii.gz", "scan.mha", "series")]
    cases = group_cases(paths)
    assert [(c.name, c.channels) for c in cases] == [
        ("a", ("/in/a_0000.nii.gz",)), ("b", ("/in/b_0000.nii.gz", "/in/b_0001.nii.gz")),
        ("scan", ("/in/scan.mha",)), ("series", ("/in/series",))]
    gap = group_cases(["/in/c_0000.nii.gz", "/in/c_0002.nii.gz"])[0]
    assert missing_channels(gap) == [1]
    (tmp_path / "b.json").write_text("{}")
    with_clicks = with_side_inputs(cases, "clicks", str(tmp_path))
    assert [c.side_inputs for c in with_clicks] == [{}, {"clicks": str(tmp_path / "b.json")}, {}, {}]


def test_inputs_that_would_share_an_output_are_each_a_failed_case_naming_the_others():
    cases = group_cases(["/in/xr.png", "/in/xr.jpg", "/in/c_0000.nii.gz", "/in/c.mha", "/in/ok.png"])
    assert [(c.name, c.channels) for c in cases] == [
        ("c", ("/in/c.mha",)), ("c", ("/in/c_0000.nii.gz",)), ("ok", ("/in/ok.png",)), ("xr", ("/in/xr.jpg",)),
        ("xr", ("/in/xr.png",))]
    assert cases[0].problem == ("/in/c.mha: gives the output name 'c' as c_0000.nii.gz does; rename one so that "
                                "neither output overwrites the other")
    assert cases[3].problem.startswith("/in/xr.jpg: gives the output name 'xr' as xr.png does")
    assert cases[4].problem.startswith("/in/xr.png: gives the output name 'xr' as xr.jpg does")
    assert cases[2].problem == ""


def test_a_series_folder_named_like_a_channel_file_is_its_own_case(tmp_path):
    for name in ("PANCREAS_0001", "PANCREAS_0002"):
        (tmp_path / name).mkdir()
    cases = group_cases([str(tmp_path / "PANCREAS_0001"), str(tmp_path / "PANCREAS_0002")])
    assert [c.name for c in cases] == ["PANCREAS_0001", "PANCREAS_0002"]
    assert all(missing_channels(c) == [] for c in cases)


def model_set(name: str, modality: str, dimensionality: int, default: bool = False) -> ModelSet:
    return ModelSet(name, f"/sets/{name}", {"modality": modality, "dimensionality": dimensionality,
                                            **({"default": True} if default else {})})


def test_model_set_is_chosen_when_exactly_one_accepts_or_one_of_several_is_the_default():
    sets = {s.name: s for s in (model_set("flare21", "CT", 3), model_set("montgomery_cfcm", "XR", 2))}
    assert choose_model_set(sets, 3, None).name == "flare21"
    assert choose_model_set(sets, 2, "DX").name == "montgomery_cfcm"
    with pytest.raises(ModelChoiceError, match="no installed model set accepts a 2D CT input"):
        choose_model_set(sets, 2, "CT")
    sets["pancreas_rstn"] = model_set("pancreas_rstn", "CT", 3)
    with pytest.raises(ModelChoiceError, match="several model sets accept a 3D input: flare21, pancreas_rstn; "
                                               "choose one with --model"):
        choose_model_set(sets, 3, None)
    sets["flare21"] = model_set("flare21", "CT", 3, default=True)
    assert choose_model_set(sets, 3, "CT").name == "flare21"
    assert choose_model_set(sets, 2, "CR").name == "montgomery_cfcm"
    sets["pancreas_rstn"] = model_set("pancreas_rstn", "CT", 3, default=True)
    with pytest.raises(ModelChoiceError,
                       match="flare21, pancreas_rstn \\(2 marked default\\); choose one with --model"):
        choose_model_set(sets, 3, None)


def test_a_manifest_naming_an_unregistered_pipeline_is_a_manifest_error():
    from inference.registry import pipeline_class
    from serving.manifest import ManifestError

    registered = "cfcm, efficient_scn, interactive, nodules, rstn"
    with pytest.raises(ManifestError, match=f"unknown pipeline 'nope' \\(registered: {registered}\\)"):
        pipeline_class("nope")
