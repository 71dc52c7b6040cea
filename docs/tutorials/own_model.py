# %% [markdown]
# # Your own model, against MaBoSS
#
# her2sim runs any MaBoSS `.bnd`/`.cfg` pair, BoolNet `.bnet`, SBML-qual or BooleanNet file as
# it is. Here we write a small MaBoSS model with non-trivial rates, simulate it, and run the
# same files through cMaBoSS (when installed) to compare node probabilities.

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import her2sim
from her2sim.formats.maboss import read_maboss

work = Path(tempfile.mkdtemp())
(work / "toy.bnd").write_text("""
Node EGF { logic = EGF; rate_up = 0; rate_down = 0; }
Node RAS { logic = EGF & !ERK; rate_up = @logic ? $k_ras : 0; rate_down = @logic ? 0 : 1; }
Node ERK { logic = RAS; rate_up = @logic ? 2 : 0; rate_down = @logic ? 0 : 0.5; }
Node Proliferation { logic = ERK; }
""")
(work / "toy.cfg").write_text(
    "$k_ras = 1.5;\nEGF.istate = 1;\nmax_time = 20;\ntime_tick = 0.5;\nsample_count = 20000;\n"
)
model, config = read_maboss(work / "toy.bnd")
result = her2sim.simulate(model, config)
result.nodes().plot(figsize=(7, 4), ylabel="P(on)")
plt.show()

# %% [markdown]
# The same statistics MaBoSS reports: node probabilities per window, full-state probabilities,
# the entropy, and (her2sim's addition) late-time averages with standard errors.

# %%
print(result.states(min_probability=0.05).tail(3))
print(result.late_nodes())

# %% [markdown]
# ## The same files through cMaBoSS
#
# `pip install cmaboss` (it needs numpy beside it) gives MaBoSS's own engine from Python.

# %%
try:
    import cmaboss
except ImportError:
    print("cmaboss is not installed; skipping the comparison")
else:
    theirs = cmaboss.MaBoSSSim(network=str(work / "toy.bnd"), config=str(work / "toy.cfg")).run()
    probs, _, names = theirs.get_nodes_probtraj()[:3]
    last = dict(zip(names, probs[-1], strict=True))
    ours = result.nodes().iloc[-1]
    for name in ("RAS", "ERK", "Proliferation"):
        print(f"{name:14s} her2sim {ours[name]:.3f}   MaBoSS {last.get(name, 0.0):.3f}")
