"""Writes a synthetic data set in a real layout.

Usage: python -m preprocessing.synthetic flare21|montgomery|nih_pancreas|autopet|lidc --output_folder DIR
       --num_cases N [--seed S] [flags below; each names the data sets it applies to]
Docs: docs/data_layouts.md
"""
from __future__ import annotations

from absl import app, flags

from preprocessing.synthetic import autopet, flare21, lidc, lidc_idc, montgomery, nih_pancreas

FLAGS = flags.FLAGS
flags.DEFINE_string("output_folder", None, "Folder the data set is written into (created if needed).")
flags.DEFINE_integer("num_cases", 4, "Number of (training) cases.")
flags.DEFINE_integer("num_validation_cases", 0, "flare21: cases written to ValidationImg/ (+ ValidationMask/).")
flags.DEFINE_integer("seed", 0, "Random seed; the same seed writes the same data set.")
flags.DEFINE_integer("in_plane_size", None, "flare21, nih_pancreas (512), autopet (400), lidc (512): voxels per "
                     "in-plane axis.")
flags.DEFINE_integer("max_side", 2048, "montgomery: largest image side in pixels.")
flags.DEFINE_enum("xray_layout", "montgomery", ["montgomery", "shenzhen", "paired"],
                  "montgomery: the layout to write (Montgomery's, Shenzhen's with its masks, or cxr/ + masks/).")
flags.DEFINE_enum("autopet_layout", "nnunet", list(autopet.LAYOUTS), "autopet: imagesTr/labelsTr (nnunet) or the "
                  "original release's per-study folders with SUV, CTres and SEG (studies).")
flags.DEFINE_float("body_scale", 1.0, "autopet: size of the anatomy relative to an adult (with a smaller "
                   "--in_plane_size for small test volumes at realistic spacing).")
flags.DEFINE_list("field_of_view_mm", None, "lidc: range of the field of view in mm (default 300,400); the anatomy "
                  "scales with it.")
flags.DEFINE_list("axial_extent_mm", None, "lidc: range of the scanned length in mm (default 260,340).")
flags.DEFINE_enum("lidc_layout", "tcia", ["tcia", "idc", "luna16"], "lidc: TCIA's DICOM series with annotation "
                  "XML, the Imaging Data Commons' series with DICOM SEG + SR per reading, or LUNA16's subset*/ .mhd "
                  "scans with its CSV files.")
flags.mark_flag_as_required("output_folder")

DATASETS = ("flare21", "montgomery", "nih_pancreas", "autopet", "lidc")


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[1] not in DATASETS:
        raise app.UsageError(f"name one data set: {', '.join(DATASETS)}")
    in_plane = {} if FLAGS.in_plane_size is None else {"in_plane_size": FLAGS.in_plane_size}
    if argv[1] == "flare21":
        config = flare21.Flare21PhantomConfig(**in_plane)
        paths = flare21.write_dataset(FLAGS.output_folder, FLAGS.num_cases, FLAGS.num_validation_cases,
                                      FLAGS.seed, config)
    elif argv[1] == "nih_pancreas":
        paths = nih_pancreas.write_dataset(FLAGS.output_folder, FLAGS.num_cases, FLAGS.seed,
                                           nih_pancreas.nih_config(FLAGS.in_plane_size or 512))
    elif argv[1] == "autopet":
        config = autopet.AutoPETPhantomConfig(body_scale=FLAGS.body_scale, **in_plane)
        paths = autopet.write_dataset(FLAGS.output_folder, FLAGS.num_cases, FLAGS.seed, config, FLAGS.autopet_layout)
    elif argv[1] == "lidc":
        ranges = {name: tuple(float(v) for v in getattr(FLAGS, name)) for name in ("field_of_view_mm",
                                                                                   "axial_extent_mm")
                  if getattr(FLAGS, name)}
        write = {"tcia": lidc.write_dataset, "idc": lidc_idc.write_idc_dataset,
                 "luna16": lidc.write_luna16_dataset}[FLAGS.lidc_layout]
        paths = write(FLAGS.output_folder, FLAGS.num_cases, FLAGS.seed, lidc.LidcPhantomConfig(**in_plane, **ranges))
    else:
        config = montgomery.MontgomeryPhantomConfig(long_side=(min(600, FLAGS.max_side), FLAGS.max_side))
        paths = montgomery.write_dataset(FLAGS.output_folder, FLAGS.num_cases, FLAGS.seed, config,
                                         layout=FLAGS.xray_layout)
    print(f"wrote {len(paths)} files for {argv[1]} into {FLAGS.output_folder}")


if __name__ == "__main__":
    app.run(main)
