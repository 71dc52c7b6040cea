"""Virtual clinical trials: pharmacokinetics, chemotherapy, virtual patients and trial endpoints."""
