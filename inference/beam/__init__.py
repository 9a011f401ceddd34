"""Cohort-scale inference on Apache Beam (`python -m inference.beam`): the entrypoint's cases and stages as a Beam
pipeline, for the DirectRunner on one machine or a Flink, Spark or Dataflow cluster."""
