# %% [markdown]
# # Scaling out with Dask
#
# Screens, the landscape and cohorts are lists of cells. `run_cells` runs them on a Dask
# cluster, writes each chunk as a Parquet part as soon as it finishes, and resumes a stopped
# run without recomputing finished parts. On the command line the same happens with
# `her2sim landscape OUT --scheduler tcp://host:8786`.

# %%
import tempfile

from distributed import Client, LocalCluster

from her2sim.experiments.cells import Cell
from her2sim.experiments.runner import run_cells
from her2sim.her2.settings import RunSettings

cells = [
    Cell(context, therapy)
    for context in ("ERBB2:amp", "ERBB2:amp; PTEN:loss")
    for therapy in ("trastuzumab", "trastuzumab+everolimus", "lapatinib")
]
out = tempfile.mkdtemp()
with (
    LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
    Client(cluster) as client,
):
    table = run_cells(
        cells, out, client=client, chunk_size=2, readouts=("proliferation",), settings=RunSettings(samples=300)
    )
table[["context", "therapy", "effect", "samples"]]

# %%
import matplotlib.pyplot as plt

ax = table.pivot_table(index="therapy", columns="context", values="effect").plot.barh(figsize=(7, 3.5))
ax.set_xlabel("effect on proliferation")
plt.show()
