"""Virtual clinical trials: patient populations, drug exposure and schedules, trial designs, analysis."""
