# %% [markdown]
# # Doses, combinations and the resistance landscape

# %%
from her2sim.experiments.combinations import combination_screen
from her2sim.experiments.doseresponse import dose_response
from her2sim.her2.settings import RunSettings
from her2sim.report.plots import dose_response_figure, synergy_figure

# %% [markdown]
# ## Dose-response with a Hill fit
# Lapatinib is a reversible inhibitor that loses potency on ERBB2 L755S; neratinib is covalent
# and keeps it. The fitted IC50 shows it.

# %%
for context in ("ERBB2:amp", "ERBB2:L755S"):
    for drug in ("lapatinib", "neratinib"):
        curve = dose_response(context, drug, settings=RunSettings(samples=400))
        print(f"{drug:10s} in {context:12s} IC50 {curve.fit.ic50_nM:8.1f} nM  Emax {curve.fit.emax:.2f}")
dose_response_figure(dose_response("ERBB2:amp", "lapatinib", settings=RunSettings(samples=400)))

# %% [markdown]
# ## A combination screen scored for synergy
# Bliss, HSA, Loewe and ZIP from the `synergy` package. Alpelisib and trastuzumab are
# synergistic when PIK3CA is mutated. The map shows the effect over the dose matrix and, on a
# scale centred at zero, how far each combination goes beyond Bliss independence.

# %%
screen = combination_screen(
    ["ERBB2:amp; PIK3CA:H1047R"], ["trastuzumab", "alpelisib"], doses=4, settings=RunSettings(samples=400)
)
print(screen.scores.round(3).to_string())
synergy_figure(screen.matrix, "trastuzumab x alpelisib, PIK3CA H1047R")

# %% [markdown]
# ## The resistance landscape
# Every mechanism against every therapy of `experiments/data/landscape.yaml`. The command
# `her2sim landscape OUT` runs it on Dask; here the same cells run in this process.

# %%
from her2sim.experiments.cells import evaluate_cells
from her2sim.experiments.landscape import landscape_cells, landscape_spec, rescues
from her2sim.report.plots import landscape_figure

table = evaluate_cells(
    landscape_cells(landscape_spec()), readouts=("proliferation",), settings=RunSettings(samples=300)
)
landscape_figure(table)
rescues(table)[["mechanism", "best_single", "best_combination", "best_combination_effect"]]
