# %% [markdown]
# # Tumour heterogeneity and the ADC bystander effect
#
# A tumour is a set of clones with HER2 levels and alterations. T-DXd's payload crosses
# membranes and reaches neighbours of any HER2 level; T-DM1's does not.

# %%
from her2sim.tumour.dynamics import simulate_tumour
from her2sim.tumour.plots import tumour_figure
from her2sim.tumour.spec import Line, read_tumour

for drug in ("T-DXd", "T-DM1", "trastuzumab"):
    tumour = read_tumour("example:heterogeneous").with_schedule((Line(drug, 0.0),))
    result = simulate_tumour(tumour, 180)
    print(f"{drug:12s} best response {result.best_response}, burden at 6 months {result.burden.iloc[-1]:.2e}")

# %% [markdown]
# A 1% PIK3CA-mutant clone is selected under trastuzumab + pertuzumab; at progression the
# schedule switches to T-DXd.

# %%
tumour = read_tumour("example:pik3ca_subclone").with_schedule(
    (Line("trastuzumab+pertuzumab", 0.0), Line("T-DXd", "progression"))
)
result = simulate_tumour(tumour, 730)
tumour_figure(result)

# %%
result.lines
