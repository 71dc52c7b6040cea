# %% [markdown]
# # From pyMaBoSS to her2sim
#
# A pyMaBoSS session, translated line by line. Each cell shows the pyMaBoSS line as a comment
# and the her2sim line under it; every her2sim line runs when these pages are built. The model is
# the small ERBB core shipped with her2sim (`example:erbb_core` on the command line), a MaBoSS
# `.bnd`/`.cfg` pair like the ones pyMaBoSS loads.
#
# Two differences shape the translation:
#
# - **A model is a value.** pyMaBoSS's `mutate`, `update_parameters` and `set_istate` change a
#   simulation in place, so a mutant starts with `sim.copy()`. her2sim's edits (`with_fixed`,
#   `with_parameters`, `with_initial_state`) return a new model and leave the old one as it was.
# - **The network and the run settings are apart**, as `.bnd` and `.cfg` are: a `Model` holds
#   nodes, rates, parameters and initial states; a `SimulationConfig` holds `max_time`,
#   `time_tick`, `sample_count`, the seed and the threads.

# %%
# import maboss
import her2sim
from her2sim.examples import example_path

bnd = example_path("erbb_core")
cfg = bnd.with_suffix(".cfg")

# sim = maboss.load(bnd, cfg)
model, config = her2sim.read_maboss(bnd, cfg)
model

# %% [markdown]
# A notebook shows the model as a table of nodes and rules. `her2sim.read_model(path)` reads any
# format by its suffix (`.bnd` with the `.cfg` beside it, `.bnet`, SBML-qual, BooleanNet) and
# returns the model alone; `her2sim.read_model_and_config(path)` returns its run settings too
# (the defaults for a format that holds none), or they come from `her2sim.SimulationConfig(...)`.

# %%
print(her2sim.read_model(bnd).names)

# %% [markdown]
# ## Settings, parameters, initial states and mutations

# %%
# sim.update_parameters(max_time=20, sample_count=5000)
config = config.with_(max_time=20, sample_count=5000)

# sim.update_parameters(**{"$k_dimer": 0.5})        (or sim.param["$k_dimer"] = 0.5)
model = model.with_parameters({"$k_dimer": 0.5})

# sim.network.set_istate("NRG1", [0.5, 0.5])       (probabilities of 0 and of 1)
model = model.with_initial_state("NRG1", 0.5)  # the probability of starting on

# mutant = sim.copy(); mutant.mutate("HER2", "OFF")
mutant = model.with_fixed("HER2", False)

print(model.parameter_values, model.initial_probability("NRG1"), mutant.node("HER2").rule)

# %% [markdown]
# A name that is not in the model is an error with a suggestion, where pyMaBoSS prints a
# message and carries on:

# %%
from her2sim.errors import UnknownNameError

try:
    model.with_fixed("HER3", False)
except UnknownNameError as error:
    print(error)

# %% [markdown]
# ## Running

# %%
# res = sim.run()
result = her2sim.simulate(model, config)
# res_mutant = mutant.run()
result_mutant = her2sim.simulate(mutant, config)
result

# %% [markdown]
# ## Figures
#
# The plotting methods return a matplotlib figure; save one with `fig.savefig("name.png")`.
# With more than six nodes every node gets its own small panel, so large models stay readable.

# %%
# res.plot_trajectory()
result.plot_trajectory()

# %%
# (pyMaBoSS draws every node; her2sim can draw a few on one axes)
result.plot_trajectory(["HER2_HER3", "AKT", "ERK"])

# %%
# res.plot_piechart()
result.plot_piechart()

# %%
# res_mutant.plot_fixpoint()
result_mutant.plot_fixpoint()

# %% [markdown]
# pyMaBoSS has no picture of the network; her2sim draws any model's signed interaction graph
# (blue arrows activate, vermillion bars inhibit):

# %%
from her2sim.report.network import network_figure

network_figure(model)

# %% [markdown]
# ## Tables
#
# pyMaBoSS's getters become DataFrame methods. MaBoSS's "last" probabilities are those of the
# last time window; the states trajectories are in at `max_time` itself are `final_states()`.

# %%
# res.get_nodes_probtraj()
result.nodes().tail(3)

# %%
# res.get_states_probtraj()
result.states(wide=True).tail(3)

# %%
# res.get_last_nodes_probtraj()
result.last_nodes()

# %%
# res.get_last_states_probtraj()
result.states(wide=True).iloc[[-1]]

# %%
# res.get_fptable()
result_mutant.fixed_points()

# %% [markdown]
# ## The same from the command line
#
# `her2sim simulate` takes the edits as options (`--mutate` and `--istate` repeat; `$` is
# optional in `--param`, and needs quotes in a shell when given) and writes the four figures
# above with `--figures`:
#
# ```
# her2sim simulate example:erbb_core --max-time 20 -n 5000 \
#     --param k_dimer=0.5 --istate NRG1=0.5 --mutate HER2=OFF --figures figs
# ```
#
# A `.cfg` that sets `thread_count` is obeyed; without it her2sim uses every core (the result
# does not depend on the number of threads), and `--threads` overrides both.
