"""Lung nodules in chest CT (LIDC-IDRI, LUNA16): the readers of the released annotation formats, the LUNA16
detection evaluation (FROC, CPM) and, built on them, detection, segmentation and malignancy of nodules."""
