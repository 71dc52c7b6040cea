"""Pages generated at build time (mkdocs-gen-files): the HER2 model card and the CLI reference.

Both are written from the sources of truth, the model's data files and the typer app, so they
cannot drift from the code. The model card's validation table is simulated during the build.
"""

from __future__ import annotations

import mkdocs_gen_files
import pandas as pd
from typer.testing import CliRunner

from her2sim.cli import app
from her2sim.formats._expr import MABOSS, format_expr
from her2sim.her2.alterations import alteration_library
from her2sim.her2.model import annotations, data_path, load_model
from her2sim.her2.scenario import Her2Simulator
from her2sim.her2.therapies import therapy_library
from her2sim.her2.validation import read_expectations, validate
from her2sim.model.config import SimulationConfig


def cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns) + "\n"
    return head + "".join("| " + " | ".join(cell(v) for v in row) + " |\n" for row in frame.itertuples(index=False))


def references(text: str) -> str:
    out = []
    for ref in filter(None, (r.strip().strip('"') for r in text.split("|"))):
        out.append(f"[{ref}](https://doi.org/{ref[4:]})" if ref.startswith("doi:") else ref)
    return "; ".join(out)


def calibration() -> str:
    """A paragraph on the shipped posterior: how it was fitted and to what."""
    from her2sim.her2.posterior import default_posterior

    posterior = default_posterior()
    if posterior is None:
        return "This build has no calibrated posterior: parameters are `her2.cfg`'s."
    meta = posterior.meta
    quantiles = posterior.quantiles().round(3).reset_index(names="factor")
    return (
        f"The model runs at the best member of its posterior (`her2/data/posterior.tsv`, "
        f"{len(posterior)} members, {meta.get('method', '?')} with {meta.get('evaluations', '?')} evaluations: "
        f"{meta.get('her2sim posterior', '')}). `her2sim calibrate` reproduces it from the measurements "
        "in `her2/data/measurements` and the literature table. Each factor's 5%, 50% and 95% "
        f"posterior quantiles:\n\n{table(quantiles)}"
    )


def model_card() -> str:
    model = load_model()
    notes = annotations().set_index("node")
    nodes = []
    for node in model.nodes:
        up, down = node.effective_rate_up(), node.effective_rate_down()
        nodes.append({
            "node": node.name,
            "genes": " ".join(node.genes),
            "rule": "" if node.rule is None else f"`{format_expr(node.rule, MABOSS)}`",
            "rates (up / down)": f"`{format_expr(up, MABOSS)}` / `{format_expr(down, MABOSS)}`",
            "evidence": cell(notes.loc[node.name, "evidence"]),
            "references": references(notes.loc[node.name, "references"]),
        })  # fmt: skip
    alterations = alteration_library().table()
    alterations["references"] = alterations["references"].map(references)
    drugs = therapy_library().table()
    drugs["references"] = drugs["references"].map(references)
    sim = Her2Simulator(SimulationConfig(max_time=60, time_tick=1, sample_count=1000, seed=1))
    checked = validate(read_expectations(data_path("expectations.tsv"), sim), sim)
    passed = int(checked["passed"].sum())
    shown = ["id", "context", "therapy", "readout", "expected", "effect", "compare_effect", "observed", "passed"]
    checked = checked[shown].assign(
        effect=checked["effect"].round(3), compare_effect=checked["compare_effect"].astype(float).round(3)
    )
    return f"""# The HER2 model card

Generated from the model's data files (`src/her2sim/her2/data/`) when this site was built; the
validation values were simulated then (1,000 trajectories per scenario, seed 1).

**What it is.** A {len(model.nodes)}-node stochastic logical model (MaBoSS semantics) of
HER2-positive breast cancer signalling and the resistance mechanisms of Swain et al. 2023,
*Nat Rev Drug Discov* 22:101, Fig. 2: HER2 mutations (1), HER2 + HER3 co-mutations (2),
p95HER2 (3), MUC4 and CD44-hyaluronan masking (4), MEK-ERK-CDK2 (5), PIK3CA (6), cyclin D1 (7),
heterogeneous HER2 (d) and ER crosstalk. Drugs act through occupancy of model sites, never by
switching a node off. Readouts are steady-state node probabilities; effects are fractional
changes against the same context untreated.

**Validation.** {passed} of {len(checked)} literature findings reproduced in this build.

**Graded rules.** Where a node adds up several inputs that are each partly sufficient, the
logical formalism's OR would let one lesion nullify every upstream drug. Those nodes carry
an `@activity` attribute instead: the fraction of the time the node is on given its
regulators, a sum of weights capped at 1, with `rate_up = @activity` and
`rate_down = 1 - @activity` (MaBoSS semantics; the weights are parameters of `her2.cfg`):

- mTORC1: nutrient-driven basal activity plus AKT, ERK-RSK and CDK4/6 contributions;
- cyclin D1: ERK (the main driver), AKT (stabilisation) and ER, or amplified CCND1;
- PI3K: HER3 dimers and p95HER2 recruit it fully, IRS1 and the IGF1R-HER2 complex partly,
  RAS-GTP partly through the p110-alpha RAS-binding domain; PIK3CA hotspot mutants keep a
  basal activity and a stronger RAS coupling (E545K) but still depend on input;
- AKT: PIP3 from PI3K, and after PTEN loss part of it from p110-beta;
- RAS: receptor dimers fully, HER2 homodimers and IGF1R partly, with ERK feedback;
- IRS1: IGF1R or serum insulin/IGF, removed by S6K; EGFR and the HER2-HER3 dimers lose part
  of their activation while ERK phosphorylates them (EGFR T669, HER2 T677);
- ESR1: induced by FOXO when AKT is off, slowly (days): the adaptive ER escape;
- proliferation: E2F in a living cell, slower without S6K (4E-BP1 is only partly mTORC1-dependent).

Mutant HER2 has its own kinase site (`$inh_HER2mut_kinase`), so a mutant's drug potency does not
apply to amplified wild-type copies. A covalent inhibitor's mutant fold change slows its
inactivation step, so a gatekeeper mutant (T798I) is not rescued by more drug. ADCC is killing
by immune cells: it acts in the tumour model, not in the cell model of a culture dish.

**Calibration.** {calibration()}

**Known limits.**

- Node activities are probabilities of a Boolean state, not concentrations; graded drug effects
  come from the fraction of time a target is held off.
- Cell-line contexts are as good as the genotypes behind them: several lines carry
  alterations the library cannot express (listed in `measurements/cell_lines.tsv`), and two have
  no sourced genotype.
- Resistance and sensitivity are steady-state properties of single cells; tumour-level response
  needs the tumour model, which takes doubling times as given.
- Washout (how long a covalent inhibitor's effect outlasts the drug) needs drug concentrations
  over time; the cell model is at steady state under constant exposure.

## Nodes

{table(pd.DataFrame(nodes))}

## Alterations

{table(alterations)}

## Therapies

{table(drugs)}

## Validation

{table(checked)}
"""


def cli_reference() -> str:
    runner = CliRunner()
    main = runner.invoke(app, ["--help"], env={"COLUMNS": "100", "NO_COLOR": "1"}, terminal_width=100)
    names = [c.name for c in app.registered_commands if c.name] + [
        c.callback.__name__ for c in app.registered_commands if not c.name and c.callback
    ]
    parts = ["# Command line\n\nGenerated from the `her2sim` typer app.\n", "```text", main.output.rstrip(), "```\n"]
    for name in sorted(n.replace("_", "-") for n in names):
        command = name.removesuffix("-command")
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1"}, terminal_width=100)
        parts += [f"## `her2sim {command}`\n", "```text", result.output.rstrip(), "```\n"]
    return "\n".join(parts)


with mkdocs_gen_files.open("model-card.md", "w") as page:
    page.write(model_card())
with mkdocs_gen_files.open("reference/cli.md", "w") as page:
    page.write(cli_reference())
