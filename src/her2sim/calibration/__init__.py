"""Fitting the HER2 model to measurements, and predictions with credible intervals."""
