"""Virtual clinical trials: trial designs, patient populations, drug schedules and their analysis."""
