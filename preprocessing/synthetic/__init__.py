"""Synthetic data sets written in the real public layouts (for tests and demos; no code assumes them)."""
