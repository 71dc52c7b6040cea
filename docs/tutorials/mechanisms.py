# %% [markdown]
# # The HER2 model, mechanism by mechanism
#
# Each panel of Swain et al. 2023 Fig. 2 is an alteration of the library. For each, we simulate
# the therapy the mechanism defeats and the one that restores response, and read which
# signalling stays on.

# %%
import pandas as pd

from her2sim.her2.scenario import scenario
from her2sim.her2.settings import RunSettings

cases = [
    ("(1) HER2 L755S", ["ERBB2:L755S"], "lapatinib", "neratinib"),
    ("(2) HER2 + HER3 co-mutation", ["ERBB2:L755S", "ERBB3:E928G"], "neratinib", "neratinib+alpelisib"),
    ("(3) p95HER2", ["ERBB2:amp", "p95HER2"], "trastuzumab", "lapatinib"),
    ("(4) MUC4 masking", ["ERBB2:amp", "MUC4:high"], "trastuzumab", "T-DM1"),
    ("(5) MEK-ERK-CDK2", ["ERBB2:amp", "NF1:loss"], "lapatinib", "lapatinib+trametinib"),
    ("(6) PIK3CA H1047R", ["ERBB2:amp", "PIK3CA:H1047R"], "trastuzumab", "trastuzumab+alpelisib"),
    ("(7) cyclin D1", ["ERBB2:amp", "CCND1:amp"], "trastuzumab", "trastuzumab+palbociclib"),
    ("(d) HER2-heterogeneous", ["ERBB2:heterogeneous"], "T-DM1", "T-DXd"),
    ("ER crosstalk", ["ERBB2:amp", "ESR1:high"], "lapatinib", "lapatinib+fulvestrant"),
]
rows = []
for label, alterations, fails, rescues in cases:
    failed = scenario(alterations, fails, settings=RunSettings(samples=600))
    rescued = scenario(alterations, rescues, settings=RunSettings(samples=600))
    rows.append(
        {
            "mechanism": label,
            "defeated": fails,
            "effect": round(failed.summary.loc["proliferation", "effect"], 2),
            "left on": ", ".join(failed.still_on().index[:4]),
            "rescue": rescues,
            "rescue effect": round(rescued.summary.loc["proliferation", "effect"], 2),
        }
    )
pd.DataFrame(rows)

# %% [markdown]
# The pathway diagram shows one case, nodes coloured by their activity under treatment.

# %%
from her2sim.report.diagram import network_activity_figure

result = scenario(["ERBB2:amp", "PIK3CA:H1047R"], "trastuzumab+pertuzumab", settings=RunSettings(samples=600))
network_activity_figure(result.nodes["treated"], "PIK3CA H1047R under trastuzumab + pertuzumab")
