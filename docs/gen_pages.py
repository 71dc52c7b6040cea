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

**Known limits.**

- Node activities are probabilities of a Boolean state, not concentrations; graded drug effects
  come from the fraction of time a target is held off.
- Parameter values (ligand levels, masking strengths, potencies) are literature-informed
  estimates, not fits to data; `her2sim validate --robustness` shows which conclusions depend on
  them and names the deciding parameters (the resistance findings close to the 0.2 threshold
  are the fragile ones).
- Resistance and sensitivity are steady-state properties of single cells; tumour-level response
  needs the tumour model, which takes doubling times as given.
- The ERBB3 E928G + neratinib + alpelisib finding sits on the threshold of the table's
  "stronger" rule; T-DM1 is partly active on HER2-low cells in the model.
- No immune system beyond an ADCC term, no pharmacokinetics (doses are steady concentrations).

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
