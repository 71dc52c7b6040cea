# %% [markdown]
# # From cBioPortal tables to a ranked therapy list
#
# Export a mutation table (with `Hugo_Symbol`, `HGVSp_Short`, `Tumor_Sample_Barcode`) and a
# copy-number table (`data_CNA.txt`) from cBioPortal. Every row either maps to an alteration of
# the library or is reported with its reason.

# %%
import tempfile
from pathlib import Path

from her2sim.experiments.predict import rank_therapies
from her2sim.experiments.profiles import read_profiles
from her2sim.her2.settings import RunSettings

work = Path(tempfile.mkdtemp())
(work / "mutations.tsv").write_text(
    "Hugo_Symbol\tHGVSp_Short\tTumor_Sample_Barcode\n"
    "PIK3CA\tp.H1047R\tP-001\nTP53\tp.R175H\tP-001\n"
    "ERBB2\tp.L755S\tP-002\nERBB3\tp.E928G\tP-002\n"
)
(work / "cna.tsv").write_text("Hugo_Symbol\tEntrez_Gene_Id\tP-001\tP-002\nERBB2\t2064\t2\t0\nCCND1\t595\t2\t1\n")
profiles = read_profiles(work / "mutations.tsv", work / "cna.tsv")
for profile in profiles.values():
    print(profile.sample, "->", profile.context)
    for line in profile.unmapped:
        print("   not used:", line.split(": ", 1)[1])

# %% [markdown]
# Rank candidate regimens for the first patient; `still_on` is the pathway each leaves active.

# %%
ranking = rank_therapies(
    profiles["P-001"].context,
    [
        "trastuzumab+pertuzumab",
        "T-DXd",
        "trastuzumab+alpelisib",
        "trastuzumab+palbociclib",
        "abemaciclib+trastuzumab",
        "lapatinib",
    ],
    settings=RunSettings(samples=400),
)
ranking

# %%
import matplotlib.pyplot as plt

ax = ranking.plot.barh(x="therapy", y="proliferation_effect", legend=False, figsize=(7, 3.5))
ax.set_xlabel("effect on proliferation")
ax.invert_yaxis()
plt.show()
