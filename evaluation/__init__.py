"""Evaluation metrics shared by training (validation) and inference (evaluate): Dice, NSD, HD95."""
