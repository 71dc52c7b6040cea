"""SBML-qual reader and writer: the published models against their BoolNet twins, round trips,
hand-written edge cases and broken twins."""

from __future__ import annotations

import importlib.util
import itertools
import random
import site
from pathlib import Path

import libsbml
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from her2sim.errors import Her2simError, ModelFormatError
from her2sim.formats import format_for, read_model, write_model
from her2sim.formats.bnet import parse_bnet, read_bnet
from her2sim.formats.sbmlqual import parse_sbmlqual, read_sbmlqual, write_sbmlqual
from her2sim.model.expr import FALSE, TRUE, BinOp, Const, Expr, Logic, Not, Var, evaluate, is_boolean, variables
from her2sim.model.network import IStateGroup, Model, Node
from tests.conftest import DATA, MODELS, model_params, shared_models
from tests.strategies import logic_nodes

SBML = DATA / "sbml"
#: Rules over at most this many variables are compared on every state, larger ones on samples.
EXHAUSTIVE_VARIABLES = 11
SAMPLES = 2000


# ----------------------------------------------------------------------------- equivalence
def effective_rule(node: Node) -> Expr:
    """The rule a node follows: an input (no rule) keeps its value, like ``A, A`` in BoolNet."""
    return node.rule if node.rule is not None else Var(node.name)


def same_function(a: Expr, b: Expr, seed: str) -> bool:
    """True when ``a`` and ``b`` agree on every state (or on SAMPLES random ones when large)."""
    if a == b:
        return True
    names = sorted(variables(a) | variables(b))
    if len(names) <= EXHAUSTIVE_VARIABLES:
        states = itertools.product((0, 1), repeat=len(names))
    else:
        rng = random.Random(seed)
        states = (tuple(rng.randint(0, 1) for _ in names) for _ in range(SAMPLES))
    return all(
        evaluate(a, dict(zip(names, s, strict=True))) == evaluate(b, dict(zip(names, s, strict=True))) for s in states
    )


def assert_equivalent(a: Model, b: Model) -> None:
    """Same node names, and every node follows the same Boolean function in both models."""
    assert set(a.names) == set(b.names)
    differ = [n for n in a.names if not same_function(effective_rule(a.node(n)), effective_rule(b.node(n)), n)]
    assert not differ, f"rules differ for {differ}"


def twin(path: Path, suffix: str) -> Path:
    return path.with_name(path.stem + suffix)


def sbml_errors(text: str) -> list[str]:
    """libsbml's consistency errors (severity Error or worse) in a written document."""
    document = libsbml.readSBMLFromString(text)
    document.checkConsistency()
    errors = (document.getError(i) for i in range(document.getNumErrors()))
    return [e.getMessage() for e in errors if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]


# ----------------------------------------------------------------------------- published files
@pytest.mark.parametrize("path", model_params("*.sbml"))
def test_published_sbml_loads(path: Path) -> None:
    model = read_sbmlqual(path)
    assert len(model) >= 16
    assert model.name
    assert all(n.rule is None or is_boolean(n.rule) for n in model.nodes)
    assert model.inputs()


@pytest.mark.parametrize("path", model_params("*.sbml"))
def test_published_sbml_matches_its_bnet_twin(path: Path) -> None:
    bnet = twin(path, ".bnet")
    if not bnet.is_file():
        pytest.skip("no .bnet twin")
    assert_equivalent(read_sbmlqual(path), read_bnet(bnet))


@pytest.mark.skipif(not shared_models("*ZanudoEtAl2020.booleannet"), reason="../shared/models is not present")
def test_zanudo_2020_sbml_matches_its_booleannet_original() -> None:
    sbml = read_sbmlqual(MODELS / "jgtz_BreastCancerModelv2__BreastCancerModel_ZanudoEtAl2020.sbml")
    booleannet = read_model(MODELS / "jgtz_BreastCancerModelv2__BreastCancerModel_ZanudoEtAl2020.booleannet")
    assert_equivalent(sbml, booleannet)
    assert sbml.node("pRb_3").rule == FALSE


@pytest.mark.parametrize("path", model_params("*.sbml"))
def test_published_sbml_round_trips(path: Path) -> None:
    model = read_sbmlqual(path)
    again = parse_sbmlqual(write_sbmlqual(model))
    assert again.names == model.names
    assert_equivalent(model, again)
    assert again.istate == model.istate
    assert [n.description for n in again.nodes] == [n.description for n in model.nodes]


@pytest.mark.parametrize("path", model_params("*.bnet"))
def test_published_bnet_round_trips_through_sbml(path: Path) -> None:
    model = read_bnet(path)
    text = write_sbmlqual(model)
    again = parse_sbmlqual(text, "bnet.sbml")
    assert again.names == model.names
    assert_equivalent(model, again)
    assert again.name == model.name


@pytest.mark.parametrize("path", model_params("BIOMD*.xml"))
def test_ode_sbml_is_refused_with_a_clear_message(path: Path) -> None:
    with pytest.raises(ModelFormatError, match="without the qual package") as err:
        read_sbmlqual(path)
    assert str(err.value).startswith(str(path))


@pytest.mark.parametrize("path", model_params("*.sbml"))
def test_truncated_published_file_names_where_it_breaks(path: Path, tmp_path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    cut = tmp_path / "half.sbml"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ModelFormatError, match="cannot read the XML") as err:
        read_sbmlqual(cut)
    line, col = err.value.line, err.value.col
    assert line is not None and col is not None and (line, col) > (1, 1)  # past the start (one-line files too)
    assert f"half.sbml:{line}:{col}:" in str(err.value)


# ----------------------------------------------------------------------------- installed packages
def _site_packages() -> list[Path]:
    roots = [*site.getsitepackages(), site.getusersitepackages()]
    return [Path(p) for p in dict.fromkeys(roots) if Path(p).is_dir()]


def _installed_sbml() -> list:
    files = sorted({f for root in _site_packages() for f in root.glob("**/*.sbml")})
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason="no .sbml files in installed packages"))]
    return [pytest.param(f, id=f.name) for f in files]


def _pyboolnet_models() -> list:
    spec = importlib.util.find_spec("pyboolnet")
    if spec is None or not spec.submodule_search_locations:
        return [pytest.param(None, marks=pytest.mark.skip(reason="pyboolnet is not installed"))]
    root = Path(next(iter(spec.submodule_search_locations))) / "repository"
    return [pytest.param(f, id=f.name) for f in sorted(root.glob("*/*.bnet"))]


@pytest.mark.parametrize("path", _installed_sbml())
def test_sbml_shipped_in_installed_packages_loads_or_refuses_cleanly(path: Path) -> None:
    try:
        model = read_sbmlqual(path)
    except ModelFormatError as exc:  # plain (ODE) SBML and multi-valued models are refused in one line
        assert "\n" not in str(exc)
    else:
        assert len(model) > 0


@pytest.mark.parametrize("path", _pyboolnet_models())
def test_pyboolnet_repository_round_trips_through_sbml(path: Path) -> None:
    model = read_bnet(path)
    again = parse_sbmlqual(write_sbmlqual(model))
    assert again.names == model.names
    assert_equivalent(model, again)


# ----------------------------------------------------------------------------- edge cases
def test_ginsim_style_edge_cases() -> None:
    model = read_sbmlqual(SBML / "ginsim_style.sbml")
    assert model.name == "GINsim-style edge cases"
    rules = {n.name: n.rule for n in model.nodes}
    assert rules == {
        "EGF": None,  # constant="true"
        "HER2": Var("EGF"),  # EGF >= input id with thresholdLevel 1
        "PTEN": None,  # no transition
        "AKT": Logic("&", (Var("HER2"), Not(Var("PTEN")))),  # input id > 0, and not(1 == PTEN)
        "ERK": Var("HER2"),  # default 1, off when 1 > HER2
        "MYC": Logic("|", (Var("ERK"), Var("AKT"))),  # default 1, terms of both levels
        "MYC_copy": Logic("|", (Var("ERK"), Var("AKT"))),  # second output of the same transition
        "S6K": Logic("&", (Var("AKT"), Var("ERK"))),  # bare species names
        "PROLIF": Logic("^", (Var("MYC"), Not(Var("APOP")))),  # xor, threshold parameter
        "APOP": Logic("|", (Var("PTEN"), Not(Var("S6K")))),  # number first
        "ON": TRUE,
        "OFF": FALSE,
        "ALWAYS": TRUE,  # APOP < 2 holds at both levels
    }
    egf, her2, pten = model.node("EGF"), model.node("HER2"), model.node("PTEN")
    assert egf.description == "epidermal growth factor"
    assert egf.genes == ("EGF",)  # the UniProt resource is not a gene symbol
    assert her2.description == "ERBB2"
    assert her2.genes == ("ERBB2",)
    assert her2.references == ("PMID:26528548", "doi:10.1186/1752-0509-8-75", "http://www.example.org/her2")
    assert model.node("AKT").references == ("PMID:19351922",)  # from the transition's annotation
    assert pten.description == ""  # the name equals the id
    assert model.istate == (IStateGroup.single("EGF", 1.0), IStateGroup.single("HER2", 0.0))
    assert model.initial_probability("PTEN") == 0.5
    assert her2.origin.endswith("ginsim_style.sbml:32")


def test_latin1_declared_file_keeps_its_accents() -> None:
    data = (SBML / "latin1.sbml").read_bytes()
    assert "Protéine".encode("latin-1") in data
    assert read_sbmlqual(SBML / "latin1.sbml").node("A").description == "Protéine kinase B"
    assert parse_sbmlqual(data).node("A").description == "Protéine kinase B"


def test_bytes_and_text_give_the_same_model() -> None:
    data = (SBML / "small.sbml").read_bytes()
    assert parse_sbmlqual(data) == parse_sbmlqual(data.decode("utf-8")) == parse_sbmlqual(b"\xef\xbb\xbf" + data)


@pytest.mark.parametrize(
    ("name", "message", "line"),
    [
        ("multivalued-error.sbml", "species LEVELS has maxLevel 2: multi-valued models are not supported", 10),
        ("result-level-error.sbml", "transition tr_B: result level 2: multi-valued", 19),
        ("arithmetic-error.sbml", "transition tr_B: cannot compare 'A + 1'", 19),
        ("unknown-name-error.sbml", "transition tr_B: unknown name 'ERBB2'", 19),
        ("two-species-error.sbml", "transition tr_B: cannot read A vs B", 19),
        ("two-transitions-error.sbml", "species B is already the output of transition tr_B1", 26),
        ("production-error.sbml", "transition tr_B: output B has transitionEffect 'production'", 13),
        ("truncated-error.sbml", "cannot read the XML: unclosed XML token", 18),
    ],
)
def test_broken_files_name_file_line_and_cause(name: str, message: str, line: int) -> None:
    with pytest.raises(ModelFormatError) as err:
        read_sbmlqual(SBML / name)
    assert message in str(err.value)
    assert err.value.line == line
    assert str(err.value).startswith(f"{SBML / name}:{line}:")
    assert "\n" not in str(err.value)


SMALL_A = '<qual:qualitativeSpecies qual:id="A" qual:compartment="c" qual:constant="false" qual:maxLevel="1"/>'
SMALL_MATH = '<apply><eq/><ci> A </ci><cn type="integer"> 1 </cn></apply>'
SMALL_OUTPUT = '<qual:output qual:qualitativeSpecies="B" qual:transitionEffect="assignmentLevel"/>'


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (SMALL_A, SMALL_A.replace("/>", ' qual:initialLevel="2"/>'), "species A has initialLevel 2"),
        (SMALL_A, SMALL_A + SMALL_A, "duplicate qualitative species 'A'"),
        (
            'qual:id="B" qual:compartment="c" qual:constant="false"',
            'qual:id="B" qual:compartment="c" qual:constant="true"',
            "species B is constant and cannot be an output",
        ),
        (SMALL_OUTPUT, SMALL_OUTPUT.replace('"B"', '"Z"'), "output 'Z' is not a qualitative species"),
        (SMALL_OUTPUT, "", "transition tr_B has no output"),
        (SMALL_MATH, "<apply><geq/><ci> A </ci><ci> in_A </ci></apply>", "input of A is used as a threshold but has"),
        (SMALL_MATH, "<apply><geq/><ci> A </ci><infinity/></apply>", "INF is not a finite number"),
        (SMALL_MATH, "<apply><eq/><ci> A </ci><cn> 1 </cn><cn> 1 </cn></apply>", "cannot read 'A == 1 == 1'"),
        (SMALL_MATH, "<apply><eq/><ci> in_A </ci><ci> in_A </ci></apply>", "needs one species and one number"),
    ],
)
def test_broken_twins_of_a_small_model(old: str, new: str, message: str) -> None:
    text = (SBML / "small.sbml").read_text(encoding="utf-8")
    inputs = '<qual:listOfInputs><qual:input qual:id="in_A" qual:qualitativeSpecies="A" qual:transitionEffect="none"/>'
    text = text.replace("<qual:listOfOutputs>", inputs + "</qual:listOfInputs><qual:listOfOutputs>")
    assert old in text
    with pytest.raises(ModelFormatError, match=r"^small\.sbml:\d+:\d+: ") as err:
        parse_sbmlqual(text.replace(old, new), "small.sbml")
    assert message in str(err.value)


def test_function_term_without_math_is_refused() -> None:
    text = (SBML / "small.sbml").read_text(encoding="utf-8")
    start, end = text.index("<math"), text.index("</math>") + len("</math>")
    with pytest.raises(ModelFormatError, match="transition tr_B: a function term has no MathML condition"):
        parse_sbmlqual(text[:start] + text[end:])


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.sbml", "the file is empty"),
        ("plain-ode.xml", "this is an SBML model without the qual package (an ODE model?)"),
        ("not-sbml-error.xml", "not an SBML document"),
    ],
)
def test_files_that_are_not_sbml_qual(name: str, message: str) -> None:
    with pytest.raises(ModelFormatError) as err:
        read_sbmlqual(SBML / name)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("  \n\t", "the file is empty"),
        ("garbage", "cannot read the XML"),
        ('<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1"/>', "no <model>"),
        (
            '<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1" '
            'xmlns:qual="http://www.sbml.org/sbml/level3/version1/qual/version1" qual:required="true"><model/></sbml>',
            "no qualitative species",
        ),
    ],
)
def test_bad_strings(text: str, message: str) -> None:
    with pytest.raises(ModelFormatError, match=message):
        parse_sbmlqual(text)


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match="no such file"):
        read_sbmlqual(tmp_path / "absent.sbml")
    binary = tmp_path / "x.sbml"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(ModelFormatError, match="binary"):
        read_sbmlqual(binary)


def test_every_truncation_is_a_her2sim_error() -> None:
    text = (SBML / "ginsim_style.sbml").read_text(encoding="utf-8")
    for cut in range(0, len(text) - 10, 97):
        with pytest.raises(Her2simError):
            parse_sbmlqual(text[:cut])


# ----------------------------------------------------------------------------- writing
def annotated_model() -> Model:
    nodes = (
        Node("EGF", None, description="epidermal growth factor", genes=("EGF",)),
        Node(
            "HER2",
            Var("EGF"),
            description="ERBB2 receptor",
            genes=("ERBB2",),
            references=("PMID:19351922", "doi:10.1186/1752-0509-8-75", "https://example.org/her2"),
        ),
        Node("AKT", Logic("&", (Var("HER2"), Not(Var("PTEN")))), genes=("AKT1", "AKT2", "AKT3")),
        Node("PTEN", Var("PTEN")),
        Node("ON", TRUE),
        Node("OFF", FALSE),
        Node("X", Logic("^", (Var("AKT"), Not(Logic("|", (Var("ON"), Var("OFF"))))))),
    )
    istate = (IStateGroup.single("EGF", 1.0), IStateGroup(("AKT", "HER2"), ((1.0, (0, 1)),)))
    return Model(nodes, istate=istate, name="annotated")


def test_annotations_and_initial_levels_round_trip() -> None:
    model = annotated_model()
    text = write_sbmlqual(model)
    assert "http://identifiers.org/hgnc.symbol/ERBB2" in text
    assert "<bqbiol:isDescribedBy>" in text and "<bqbiol:is>" in text
    again = parse_sbmlqual(text)
    assert again.name == "annotated"
    for name in model.names:
        a, b = model.node(name), again.node(name)
        assert (b.description, b.genes) == (a.description, a.genes), name
        assert b.references == a.references, name
    assert {n: again.initial_probability(n) for n in again.names} == {
        n: model.initial_probability(n) for n in model.names
    }
    assert_equivalent(model, again)
    assert again.node("PTEN").rule is None  # inputs are written without a transition


def test_written_sbml_is_valid_and_shaped_like_ginsim() -> None:
    text = write_sbmlqual(annotated_model())
    assert sbml_errors(text) == []
    document = libsbml.readSBMLFromString(text)
    assert (document.getLevel(), document.getVersion()) == (3, 1)
    assert document.getPackageRequired("qual")
    qual = document.getModel().getPlugin("qual")
    assert [s.getMaxLevel() for s in qual.getListOfQualitativeSpecies()] == [1] * 7
    assert not any(s.getConstant() for s in qual.getListOfQualitativeSpecies())
    akt = qual.getTransition("tr_AKT")
    assert sorted(i.getQualitativeSpecies() for i in akt.getListOfInputs()) == ["HER2", "PTEN"]
    terms = akt.getListOfFunctionTerms()
    assert terms.getDefaultTerm().getResultLevel() == 0
    assert terms.size() == 1 and terms.get(0).getResultLevel() == 1
    assert libsbml.formulaToL3String(terms.get(0).getMath()) == "(HER2 == 1) && (PTEN == 0)"
    assert qual.getTransition("tr_EGF") is None and qual.getTransition("tr_PTEN") is None


def test_generated_ids_never_collide_with_node_names() -> None:
    model = parse_bnet("cell, tr_A\ntr_A, A\nA, !cell\n")
    text = write_sbmlqual(model)
    assert sbml_errors(text) == []
    assert_equivalent(model, parse_sbmlqual(text))


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (Model((Node("A", Var("A"), rate_up=Const(2.0)),)), "custom rates or attributes"),
        (Model((Node("A", Var("A"), attributes=(("w", Const(1.0)),)),)), "custom rates or attributes"),
        (Model((Node("A", None),), parameters=(("k", 1.0),)), r"parameters \(\$k\)"),
        (Model((Node("A", None),), istate=(IStateGroup.single("A", 0.3),)), "random initial state of A"),
        (
            Model(
                (Node("A", None), Node("B", None)), istate=(IStateGroup(("A", "B"), ((0.5, (0, 1)), (0.5, (1, 0)))),)
            ),
            "random initial state of A, B",
        ),
        (Model((Node("A", None, references=("Sahin et al. 2009",)),)), "is not a PMID, DOI or URI"),
    ],
)
def test_writer_refuses_what_sbml_qual_cannot_hold_unless_lossy(model: Model, message: str) -> None:
    with pytest.raises(ModelFormatError, match=message):
        write_sbmlqual(model)
    again = parse_sbmlqual(write_sbmlqual(model, lossy=True))
    assert again.names == model.names
    assert again.istate == ()
    assert again.node("A").references == ()


def test_half_probability_needs_no_initial_level() -> None:
    model = Model((Node("A", None),), istate=(IStateGroup.single("A", 0.5),))
    assert parse_sbmlqual(write_sbmlqual(model)).initial_probability("A") == 0.5


def test_names_that_are_not_sbml_ids_are_refused_even_when_lossy() -> None:
    model = Model((Node("A.b", None),))
    with pytest.raises(ModelFormatError, match="not an SBML identifier"):
        write_sbmlqual(model, lossy=True)


def test_non_boolean_rules_are_refused_even_when_lossy() -> None:
    model = Model((Node("A", BinOp("+", Var("A"), Const(1.0))),))
    with pytest.raises(ModelFormatError, match="not Boolean"):
        write_sbmlqual(model, lossy=True)


# ----------------------------------------------------------------------------- registry
@pytest.mark.parametrize("name", ["m.sbml", "M.SBML", "m.sbmlqual.xml"])
def test_registry_selects_sbml_qual(name: str) -> None:
    assert format_for(name).name == "SBML-qual"


def test_plain_xml_is_not_claimed() -> None:
    with pytest.raises(ModelFormatError, match="unknown model file type"):
        format_for("BIOMD0000000424.xml")


def test_read_model_and_write_model(tmp_path: Path) -> None:
    model = annotated_model()
    path = tmp_path / "out.sbmlqual.xml"
    write_model(model, path)
    again = read_model(path)
    assert again.names == model.names
    assert_equivalent(model, again)


# ----------------------------------------------------------------------------- properties
NAMES = ("A", "B", "C", "D")
rules = st.recursive(
    st.sampled_from([Var(n) for n in NAMES] + [TRUE, FALSE]),
    lambda inner: st.one_of(
        st.builds(Not, inner),
        logic_nodes(inner, ("&", "|", "^")),
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(rules, min_size=len(NAMES), max_size=len(NAMES)))
def test_random_rules_round_trip(drawn: list[Expr]) -> None:
    model = Model(tuple(Node(n, r) for n, r in zip(NAMES, drawn, strict=True)))
    again = parse_sbmlqual(write_sbmlqual(model))
    assert again.names == model.names
    assert_equivalent(model, again)


def test_deeply_nested_mathml_is_a_format_error() -> None:
    depth = 2000  # fixed: importing mpbn raises the recursion limit, and libsbml crashes on 400000 levels
    condition = "<apply><not/>" * depth + '<apply><eq/><ci> A </ci><cn type="integer"> 1 </cn></apply>'
    condition += "</apply>" * depth
    text = (SBML / "small.sbml").read_text(encoding="utf-8")
    text = text.replace('<apply><eq/><ci> A </ci><cn type="integer"> 1 </cn></apply>', condition)
    with pytest.raises(ModelFormatError, match="nested too deeply"):
        parse_sbmlqual(text)


def test_equivalence_oracle_detects_differences() -> None:
    assert not same_function(Logic("&", (Var("A"), Var("B"))), Logic("|", (Var("A"), Var("B"))), "small")
    wide = [Var(f"X{i}") for i in range(EXHAUSTIVE_VARIABLES + 5)]
    big_and, big_or = wide[0], wide[0]
    for v in wide[1:]:
        big_and, big_or = Logic("&", (big_and, v)), Logic("|", (big_or, v))
    assert same_function(big_and, Logic("&", (wide[-1], big_and)), "sampled")
    assert not same_function(big_and, big_or, "sampled")
