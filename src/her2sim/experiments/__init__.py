"""Experiments on the HER2 model: dose-response, combination screens, the resistance
landscape and personal profiles, run locally or on a Dask cluster."""
