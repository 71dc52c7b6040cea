"""SBML-qual files: SBML Level 3 with the ``qual`` package, as GINsim, Cell Collective, bioLQM,
CellNOpt and the Biodivine boolean-model benchmark (BBM) write them.

Reading (Boolean models only):

* each qualitative species becomes a node named by its id; a ``name`` that differs from the id
  becomes the node's description, ``initialLevel`` its initial state, and its CV terms its
  annotations (HGNC symbols as genes, PubMed and DOI resources as references);
* a species with ``constant="true"`` or no transition is an input (no rule);
* a transition's rule is the disjunction of the conditions of its function terms with result
  level 1, or, when the default term's level is 1, that disjunction or-ed with the negation of
  the terms with result level 0;
* a condition is MathML built from ``and``, ``or``, ``xor``, ``not``, ``true``, ``false`` and
  comparisons of a species with a number (``A == 1``, ``A >= 1``, ``A < 1``, ...); the number
  may be an input id (GINsim's ``thresholdLevel``) or a global parameter (a ``thresholdSymbol``).

Multi-valued models, production outputs and arithmetic have no Boolean meaning and are refused
with the file, line and transition. Tools write SBML-qual that breaks the schema in harmless ways
(BBM omits compartments and adds an ``essential`` attribute), so only XML that cannot be read
is fatal; libsbml's consistency complaints are not.

Writing gives SBML Level 3 Version 1 with qual version 1: one compartment, one species per node
(``maxLevel`` 1), and one transition per node with a rule, whose single function term (result
level 1, default 0) holds the rule. Inputs get no transition, as GINsim writes them. Rates,
parameters and random initial states have no SBML-qual spelling: writing a model that has them
raises unless ``lossy=True``.

Examples
--------
>>> from her2sim.formats.bnet import parse_bnet
>>> text = write_sbmlqual(parse_bnet("A, A\\nB, A & !B\\n"))
>>> m = parse_sbmlqual(text)
>>> m.names
('A', 'B')
>>> m.node("B").rule
Logic(op='&', args=(Var(name='A'), Not(arg=Var(name='B'))))
>>> m.node("A").rule is None
True
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import unquote
from xml.parsers import expat

import libsbml

from her2sim.errors import ModelFormatError
from her2sim.files import decode, read_text
from her2sim.formats._refusal import refuse_rates
from her2sim.model.expr import (
    FALSE,
    MAX_DEPTH,
    TRUE,
    Const,
    Expr,
    Logic,
    Not,
    Var,
    conjunction,
    disjunction,
    is_boolean,
    simplify,
    variables,
)
from her2sim.model.network import IStateGroup, Model, Node

__all__ = ["parse_sbmlqual", "read_sbmlqual", "write_sbmlqual"]

#: libsbml XML errors that do not stop the document from being read.
_HARMLESS_XML_ERRORS = frozenset({libsbml.MissingXMLDecl, libsbml.MissingXMLEncoding})

_XML_ENCODING = re.compile(r"""\A(\s*<\?xml\b[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")
_SID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

_HGNC_SYMBOL = re.compile(r"(?:identifiers\.org/hgnc\.symbol[/:]|urn:miriam:hgnc\.symbol:)(?P<id>[^/?#]+)$", re.I)
_PUBMED = re.compile(
    r"(?:identifiers\.org/pubmed[/:]|urn:miriam:pubmed:|ncbi\.nlm\.nih\.gov/pubmed/|pubmed\.ncbi\.nlm\.nih\.gov/)"
    r"(?P<id>\d+)/?$",
    re.I,
)
_DOI = re.compile(r"(?:identifiers\.org/doi[/:]|urn:miriam:doi:|doi\.org/)(?P<id>10\..+)$", re.I)
_PMID_REF = re.compile(r"PMID:\s*(?P<id>\d+)\Z", re.I)
_DOI_REF = re.compile(r"(?:doi:\s*)?(?P<id>10\.\d+/\S+)\Z", re.I)
_URI_REF = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*://|urn:)\S+\Z", re.I)

_GENE_URI = "http://identifiers.org/hgnc.symbol/{}"
_PUBMED_URI = "http://identifiers.org/pubmed/{}"
_DOI_URI = "http://identifiers.org/doi/{}"

_NO_QUAL = "this is an SBML model without the qual package (an ODE model?); her2sim reads SBML-qual logical models"

_LOGICAL = {libsbml.AST_LOGICAL_AND: "&", libsbml.AST_LOGICAL_OR: "|", libsbml.AST_LOGICAL_XOR: "^"}
_MATHML_LOGICAL = {op: kind for kind, op in _LOGICAL.items()}
_COMPARISONS: dict[int, Callable[[float, float], bool]] = {
    libsbml.AST_RELATIONAL_EQ: lambda a, b: a == b,
    libsbml.AST_RELATIONAL_NEQ: lambda a, b: a != b,
    libsbml.AST_RELATIONAL_GEQ: lambda a, b: a >= b,
    libsbml.AST_RELATIONAL_GT: lambda a, b: a > b,
    libsbml.AST_RELATIONAL_LEQ: lambda a, b: a <= b,
    libsbml.AST_RELATIONAL_LT: lambda a, b: a < b,
}
#: The comparison that reads the same with its operands swapped (``1 > A`` is ``A < 1``).
_SWAPPED = {
    libsbml.AST_RELATIONAL_EQ: libsbml.AST_RELATIONAL_EQ,
    libsbml.AST_RELATIONAL_NEQ: libsbml.AST_RELATIONAL_NEQ,
    libsbml.AST_RELATIONAL_GEQ: libsbml.AST_RELATIONAL_LEQ,
    libsbml.AST_RELATIONAL_GT: libsbml.AST_RELATIONAL_LT,
    libsbml.AST_RELATIONAL_LEQ: libsbml.AST_RELATIONAL_GEQ,
    libsbml.AST_RELATIONAL_LT: libsbml.AST_RELATIONAL_GT,
}
_SUPPORTED_MATH = "and/or/xor/not, true/false and comparisons of a species with a number"
#: Deepest XML element nesting read: the deepest condition plus the document's wrappers.
_MAX_XML_DEPTH = MAX_DEPTH + 50


# --------------------------------------------------------------------------------- reading
def parse_sbmlqual(data: bytes | str, source: str = "<string>") -> Model:
    """Build a model from SBML-qual text.

    Parameters
    ----------
    data:
        The document, as bytes (decoded like every model file: UTF-8, else Latin-1) or text.
    source:
        File name used in error messages and as the model name when the file has none.

    Returns
    -------
    Model
        One node per qualitative species, in file order.

    Raises
    ------
    ModelFormatError
        Unreadable XML (with libsbml's line and column), a model without the qual package,
        multi-valued species, or MathML without a Boolean meaning.
    ModelValidationError
        The network is inconsistent (checked by :meth:`Model.check`).
    """
    text = decode(data, source) if isinstance(data, bytes) else data.lstrip("\ufeff")
    if not text.strip():
        raise ModelFormatError("the file is empty", source, hint="an SBML-qual file is XML with an <sbml> root")
    # The text is decoded already and libsbml receives it as UTF-8 whatever the declaration says.
    text = _XML_ENCODING.sub(r"\1\2UTF-8\2", text, count=1)
    _check_nesting(text, source)
    document = libsbml.readSBMLFromString(text)
    sbml_model = _readable_model(document, source)
    qual = sbml_model.getPlugin("qual")
    if qual is None:
        raise ModelFormatError(_NO_QUAL, source)
    if qual.getNumQualitativeSpecies() == 0:
        raise ModelFormatError("the model declares no qualitative species", source)

    species = _read_species(qual, source)
    rules, rule_refs = _read_transitions(qual, sbml_model, species, source)
    nodes = []
    istate = []
    for sp in species.values():
        references = tuple(dict.fromkeys(sp.references + rule_refs.get(sp.id, ())))
        nodes.append(
            Node(
                sp.id,
                rules.get(sp.id),
                description=sp.description,
                genes=sp.genes,
                references=references,
                origin=f"{source}:{sp.line}",
            )
        )
        if sp.initial is not None:
            istate.append(IStateGroup.single(sp.id, float(sp.initial)))
    name = sbml_model.getName() or sbml_model.getId() or os.path.splitext(os.path.basename(source))[0]
    return Model(tuple(nodes), istate=tuple(istate), name=name).check(source)


def read_sbmlqual(path: str | os.PathLike[str]) -> Model:
    """Read an SBML-qual file (``.sbml`` or ``.sbmlqual.xml``)."""
    return parse_sbmlqual(read_text(path), str(path))


class _TooDeep(Exception):
    """Raised from expat's element handler to stop at the first element nested too deeply."""


def _check_nesting(text: str, source: str) -> None:
    """Refuse XML nested deeper than any Boolean model needs, before libsbml sees it.

    libsbml reads MathML recursively and overflows the C stack on a few thousand nested
    elements: the process dies with a segmentation fault, not an exception. expat keeps its
    own element stack, so it measures any depth safely. The limit leaves room for the
    document's wrappers (``sbml``, ``model``, ``listOfTransitions``, ..., ``math``) around
    the deepest condition a model may hold (:data:`~her2sim.model.expr.MAX_DEPTH`).
    Malformed XML is left to libsbml, which reports it in its own words.
    """
    parser = expat.ParserCreate()
    level = 0

    def start(_name: str, _attributes: dict[str, str]) -> None:
        nonlocal level
        level += 1
        if level > _MAX_XML_DEPTH:
            raise _TooDeep

    def end(_name: str) -> None:
        nonlocal level
        level -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(text, True)
    except _TooDeep:
        raise ModelFormatError(
            f"XML elements nested more than {_MAX_XML_DEPTH} deep (a MathML condition nested too deeply)",
            source,
            parser.CurrentLineNumber,
            parser.CurrentColumnNumber + 1,
            hint=f"her2sim reads conditions up to {MAX_DEPTH} levels deep",
        ) from None
    except expat.ExpatError:
        return


def _readable_model(document: libsbml.SBMLDocument, source: str) -> libsbml.Model:
    """The document's model, or the first error that stopped libsbml from reading it.

    XML that is not well formed is fatal. SBML consistency errors are not: published files
    break the schema in ways that do not change the network (see the module docstring).
    """
    errors = [document.getError(i) for i in range(document.getNumErrors())]
    serious = [e for e in errors if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    fatal = [
        e
        for e in serious
        if e.getSeverity() >= libsbml.LIBSBML_SEV_FATAL or (e.isXML() and e.getErrorId() not in _HARMLESS_XML_ERRORS)
    ]
    sbml_model = document.getModel()
    if sbml_model is None and not fatal and document.getLevel() == 0:
        raise ModelFormatError("this XML file is not an SBML document", source, hint="the root must be <sbml>")
    if fatal:
        first = fatal[0]
        # libsbml's last line is the specific complaint; the lines before state the general rule.
        lines = [line.strip() for line in first.getMessage().splitlines() if line.strip()]
        detail = (lines[-1] if lines else first.getShortMessage()).rstrip(".")
        if not detail[:2].isupper():  # keep "XML ...", lower "Unclosed ..."
            detail = detail[:1].lower() + detail[1:]
        raise ModelFormatError(
            f"{'cannot read the XML' if first.isXML() else 'invalid SBML'}: {detail}",
            source,
            first.getLine() or None,
            first.getColumn() or None,
        )
    if sbml_model is None:
        raise ModelFormatError("the SBML document has no <model>", source)
    return sbml_model


@dataclass(frozen=True)
class _Species:
    """What a node needs from one qualitative species."""

    id: str
    constant: bool
    initial: int | None
    description: str
    genes: tuple[str, ...]
    references: tuple[str, ...]
    line: int


def _read_species(qual: libsbml.QualModelPlugin, source: str) -> dict[str, _Species]:
    """Qualitative species by id, refusing multi-valued ones."""
    out: dict[str, _Species] = {}
    for sp in qual.getListOfQualitativeSpecies():
        sid = sp.getId()
        where = (source, sp.getLine() or None, sp.getColumn() or None)
        if not sid:
            raise ModelFormatError("a qualitative species has no id", *where)
        if sid in out:
            raise ModelFormatError(f"duplicate qualitative species {sid!r}", *where)
        if sp.isSetMaxLevel() and sp.getMaxLevel() > 1:
            raise ModelFormatError(
                f"species {sid} has maxLevel {sp.getMaxLevel()}: multi-valued models are not supported",
                *where,
                hint="her2sim reads Boolean models; booleanize it first, e.g. with bioLQM",
            )
        initial = sp.getInitialLevel() if sp.isSetInitialLevel() else None
        if initial is not None and initial not in (0, 1):
            raise ModelFormatError(f"species {sid} has initialLevel {initial}; a Boolean level is 0 or 1", *where)
        name = sp.getName() if sp.isSetName() else ""
        genes, references = _annotations(sp)
        out[sid] = _Species(
            id=sid,
            constant=sp.getConstant(),
            initial=initial,
            description=name if name != sid else "",
            genes=genes,
            references=references,
            line=sp.getLine(),
        )
    return out


def _annotations(element: libsbml.SBase) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """HGNC symbols and literature references among the CV terms.

    PubMed and DOI resources become ``PMID:n`` and ``doi:10...`` under any qualifier; other
    ``isDescribedBy`` resources are kept as URIs, so what :func:`write_sbmlqual` writes returns.
    """
    genes: list[str] = []
    references: list[str] = []
    for i in range(element.getNumCVTerms()):
        term = element.getCVTerm(i)
        describes = (
            term.getQualifierType() == libsbml.BIOLOGICAL_QUALIFIER
            and term.getBiologicalQualifierType() == libsbml.BQB_IS_DESCRIBED_BY
        )
        for j in range(term.getNumResources()):
            uri = unquote(term.getResourceURI(j).strip())
            if hit := _HGNC_SYMBOL.search(uri):
                genes.append(hit["id"])
            elif hit := _PUBMED.search(uri):
                references.append(f"PMID:{hit['id']}")
            elif hit := _DOI.search(uri):
                references.append(f"doi:{hit['id']}")
            elif describes and _URI_REF.match(uri):
                references.append(uri)
    return tuple(dict.fromkeys(genes)), tuple(dict.fromkeys(references))


def _read_transitions(
    qual: libsbml.QualModelPlugin, sbml_model: libsbml.Model, species: dict[str, _Species], source: str
) -> tuple[dict[str, Expr | None], dict[str, tuple[str, ...]]]:
    """Rules by output species, and the references annotating each species' transition."""
    numbers = {
        p.getId(): p.getValue() for p in sbml_model.getListOfParameters() if p.isSetValue() and p.getId() not in species
    }
    rules: dict[str, Expr | None] = {}
    references: dict[str, tuple[str, ...]] = {}
    assigned_by: dict[str, str] = {}
    for index, transition in enumerate(qual.getListOfTransitions(), start=1):
        tid = transition.getId() or f"#{index}"
        where = (source, transition.getLine() or None, transition.getColumn() or None)
        outputs = []
        for output in transition.getListOfOutputs():
            target = output.getQualitativeSpecies()
            if target not in species:
                raise ModelFormatError(f"transition {tid}: output {target!r} is not a qualitative species", *where)
            if output.getTransitionEffect() == libsbml.OUTPUT_TRANSITION_EFFECT_PRODUCTION:
                raise ModelFormatError(
                    f"transition {tid}: output {target} has transitionEffect 'production', which is not Boolean",
                    *where,
                    hint="Boolean transitions assign a level: transitionEffect='assignmentLevel'",
                )
            if species[target].constant:
                raise ModelFormatError(
                    f"transition {tid}: species {target} is constant and cannot be an output", *where
                )
            if target in assigned_by:
                raise ModelFormatError(
                    f"transition {tid}: species {target} is already the output of transition {assigned_by[target]}",
                    *where,
                )
            assigned_by[target] = tid
            outputs.append(target)
        if not outputs:
            raise ModelFormatError(f"transition {tid} has no output", *where)
        reader = _MathReader(tid, source, species.keys(), _inputs(transition), numbers)
        rule = reader.rule(transition)
        _, refs = _annotations(transition)
        for target in outputs:
            rules[target] = rule
            references[target] = refs
    return rules, references


@dataclass(frozen=True)
class _Input:
    """A transition input: the species it reads and its threshold level, if any."""

    species: str
    threshold: int | None


def _inputs(transition: libsbml.Transition) -> dict[str, _Input]:
    """The transition's inputs by id, for MathML that names an input rather than a species."""
    return {
        inp.getId(): _Input(inp.getQualitativeSpecies(), inp.getThresholdLevel() if inp.isSetThresholdLevel() else None)
        for inp in transition.getListOfInputs()
        if inp.isSetId()
    }


class _MathReader:
    """Turns the function terms of one transition into a Boolean rule."""

    def __init__(
        self,
        transition_id: str,
        source: str,
        species: Iterable[str],
        inputs: dict[str, _Input],
        numbers: dict[str, float],
    ) -> None:
        self.transition_id = transition_id
        self.source = source
        self.depth = 0
        self.species = frozenset(species)
        self.inputs = inputs
        self.numbers = numbers
        self.where: tuple[int | None, int | None] = (None, None)

    def error(self, message: str, hint: str | None = None) -> ModelFormatError:
        """A format error located at the function term being read."""
        return ModelFormatError(f"transition {self.transition_id}: {message}", self.source, *self.where, hint=hint)

    def rule(self, transition: libsbml.Transition) -> Expr | None:
        """The output's rule, or ``None`` for a transition without function terms (BBM's inputs)."""
        terms = transition.getListOfFunctionTerms()
        default = terms.getDefaultTerm() if terms.isSetDefaultTerm() else None
        if terms.size() == 0 and default is None:
            return None
        self.where = (transition.getLine() or None, transition.getColumn() or None)
        default_level = self.level(default.getResultLevel()) if default is not None else 0
        on: list[Expr] = []
        off: list[Expr] = []
        for i in range(terms.size()):
            term = terms.get(i)
            self.where = (term.getLine() or None, term.getColumn() or None)
            level = self.level(term.getResultLevel())
            if not term.isSetMath():
                raise self.error("a function term has no MathML condition")
            try:
                condition = self.boolean(term.getMath())
            except RecursionError:
                raise self.error("the MathML condition is nested too deeply") from None
            (on if level == 1 else off).append(condition)
        # with default level 1, the output is on unless a level-0 term holds: on_1 | ... | !(off_1 | ...)
        rule = disjunction(on if default_level == 0 else [*on, Not(disjunction(off))])
        try:
            return simplify(rule)
        except RecursionError:
            raise self.error("the MathML condition is nested too deeply") from None

    def level(self, level: int) -> int:
        """A result level, which must be Boolean."""
        if level not in (0, 1):
            raise self.error(
                f"result level {level}: multi-valued models are not supported",
                "her2sim reads Boolean models; booleanize it first, e.g. with bioLQM",
            )
        return level

    def boolean(self, ast: libsbml.ASTNode) -> Expr:
        """The Boolean expression a MathML condition spells.

        Nesting is capped here rather than by Python's recursion limit, which importing mpbn
        raises to 100000.
        """
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise RecursionError
            return self._boolean(ast)
        finally:
            self.depth -= 1

    def _boolean(self, ast: libsbml.ASTNode) -> Expr:
        kind = ast.getType()
        args = [ast.getChild(i) for i in range(ast.getNumChildren())]
        if kind in _LOGICAL:
            terms = [self.boolean(a) for a in args]
            if kind == libsbml.AST_LOGICAL_AND:
                return conjunction(terms)
            if kind == libsbml.AST_LOGICAL_OR:
                return disjunction(terms)
            return Logic("^", tuple(terms)) if len(terms) > 1 else (terms[0] if terms else FALSE)
        if kind == libsbml.AST_LOGICAL_NOT and len(args) == 1:
            return Not(self.boolean(args[0]))
        if kind == libsbml.AST_CONSTANT_TRUE:
            return TRUE
        if kind == libsbml.AST_CONSTANT_FALSE:
            return FALSE
        if kind in _COMPARISONS and len(args) == 2:
            return self.comparison(kind, args[0], args[1])
        if kind == libsbml.AST_NAME and ast.getName() in self.species:
            return Var(ast.getName())  # a bare level reads as true when non-zero
        raise self.error(f"cannot read {_formula(ast)!r} as a Boolean condition", f"her2sim reads {_SUPPORTED_MATH}")

    def comparison(self, kind: int, left: libsbml.ASTNode, right: libsbml.ASTNode) -> Expr:
        """``species <op> number`` (either order) as ``Var``, ``Not(Var)`` or a constant."""
        a, b = self.operand(left), self.operand(right)
        # An input id is a threshold next to a species (GINsim) and stands for its species otherwise.
        if isinstance(a, _Input):
            a = self.threshold(a) if isinstance(b, str) else a.species
        elif isinstance(b, _Input):
            b = self.threshold(b) if isinstance(a, str) else b.species
        if isinstance(a, float) and isinstance(b, str):
            a, b, kind = b, a, _SWAPPED[kind]
        if not (isinstance(a, str) and isinstance(b, float)):
            raise self.error(
                f"cannot read {_formula(left)} vs {_formula(right)}: a comparison needs one species and one number"
            )
        test = _COMPARISONS[kind]
        when_off, when_on = test(0.0, b), test(1.0, b)
        if when_on and not when_off:
            return Var(a)
        if when_off and not when_on:
            return Not(Var(a))
        return TRUE if when_on else FALSE

    def operand(self, ast: libsbml.ASTNode) -> str | float | _Input:
        """A species id, a number, or an input whose role depends on the other operand."""
        if ast.isNumber():
            value = float(ast.getValue())
            if not math.isfinite(value):
                raise self.error(f"{_formula(ast)} is not a finite number")
            return value
        if ast.getType() == libsbml.AST_NAME:
            name = ast.getName()
            if name in self.species:
                return str(name)
            if name in self.inputs:
                return self.inputs[name]
            if name in self.numbers:
                return float(self.numbers[name])
            raise self.error(f"unknown name {name!r} in MathML", "names must be qualitative species or input ids")
        raise self.error(f"cannot compare {_formula(ast)!r}", f"her2sim reads {_SUPPORTED_MATH}")

    def threshold(self, inp: _Input) -> float:
        """The threshold level an input id stands for."""
        if inp.threshold is None:
            raise self.error(f"input of {inp.species} is used as a threshold but has no thresholdLevel")
        return float(inp.threshold)


def _formula(ast: libsbml.ASTNode) -> str:
    """Short infix text of a MathML sub-tree, for error messages."""
    text = libsbml.formulaToL3String(ast) or "?"
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------------------- writing
def write_sbmlqual(model: Model, lossy: bool = False) -> str:
    """SBML-qual text (Level 3 Version 1, qual version 1) for ``model``.

    Parameters
    ----------
    model:
        A Boolean model; node names must be SBML identifiers (letters, digits, ``_``).
    lossy:
        Drop what SBML-qual cannot hold (rates, attributes, parameters, random or joint initial
        states, references that are not PubMed, DOI or URIs) instead of raising.

    Raises
    ------
    ModelFormatError
        The model holds something SBML-qual cannot express and ``lossy`` is false, or a node name
        is not an SBML identifier.
    """
    where = model.name or None
    if not lossy:
        _check_expressible(model)
    initial = _initial_levels(model)
    document = libsbml.SBMLDocument(libsbml.SBMLNamespaces(3, 1, "qual", 1))
    _ok(document.setPackageRequired("qual", True), "mark the qual package required", where)
    sbml_model = document.createModel()
    if model.name:
        _ok(sbml_model.setName(model.name), "set the model name", where)
    ids = _IdPool(model.names)
    compartment = sbml_model.createCompartment()
    _ok(compartment.setId(ids.new("cell")), "create the compartment", where)
    _ok(compartment.setConstant(True), "create the compartment", where)
    qual = sbml_model.getPlugin("qual")
    for node in model.nodes:
        if not _SID.match(node.name):
            raise ModelFormatError(
                f"node name {node.name!r} is not an SBML identifier", where, hint="rename it to letters, digits and _"
            )
        species = qual.createQualitativeSpecies()
        _ok(species.setId(node.name), f"create species {node.name}", where)
        _ok(species.setCompartment(compartment.getId()), f"create species {node.name}", where)
        _ok(species.setConstant(False), f"create species {node.name}", where)
        _ok(species.setMaxLevel(1), f"create species {node.name}", where)
        if node.description:
            _ok(species.setName(node.description), f"set the name of {node.name}", where)
        if node.name in initial:
            _ok(species.setInitialLevel(initial[node.name]), f"set the initial level of {node.name}", where)
        _write_annotations(species, node, where)
    for node in model.nodes:
        if node.rule is not None and not node.is_input:
            _write_transition(qual.createTransition(), ids.new(f"tr_{node.name}"), node, where)
    text = libsbml.writeSBMLToString(document)
    if not text:
        raise ModelFormatError("libsbml could not write the document", where)
    return str(text)


def _check_expressible(model: Model) -> None:
    """Raise when the model holds what SBML-qual cannot: rates, parameters, references that are
    not PubMed, DOI or URIs, random initial states."""
    where = model.name or None
    hint = "write MaBoSS .bnd/.cfg, or pass lossy=True"
    refuse_rates(model, "SBML-qual", hint)
    for node in model.nodes:
        for ref in node.references:
            if _reference_uri(ref) is None:
                raise ModelFormatError(
                    f"reference {ref!r} of node {node.name} is not a PMID, DOI or URI", where, hint=hint
                )
    for group in model.istate:
        deterministic = sum(p > 0 for p in group.effective_probabilities()) == 1
        if not deterministic and (len(group.nodes) > 1 or group.p_on(group.nodes[0]) != 0.5):
            raise ModelFormatError(
                f"the random initial state of {', '.join(group.nodes)} has no SBML-qual spelling",
                where,
                hint="SBML-qual holds fixed initial levels only; " + hint,
            )


def _initial_levels(model: Model) -> dict[str, int]:
    """Nodes that start at a fixed level; the others start at random (no ``initialLevel``)."""
    out = {}
    for name in model.names:
        p_on = model.initial_probability(name)
        if p_on in (0.0, 1.0):
            out[name] = int(p_on)
    return out


def _reference_uri(reference: str) -> str | None:
    """The URI a node reference is annotated with, or ``None`` when it is free text."""
    ref = reference.strip()
    if hit := _PMID_REF.match(ref):
        return _PUBMED_URI.format(hit["id"])
    if hit := _DOI_REF.match(ref):
        return _DOI_URI.format(hit["id"])
    if _URI_REF.match(ref):
        return ref
    return None


def _write_annotations(species: libsbml.QualitativeSpecies, node: Node, where: str | None) -> None:
    """Genes as ``bqbiol:is`` HGNC symbols, references as ``bqbiol:isDescribedBy``."""
    uris = [u for u in (_reference_uri(r) for r in node.references) if u is not None]
    terms = [
        (libsbml.BQB_IS, [_GENE_URI.format(g) for g in node.genes]),
        (libsbml.BQB_IS_DESCRIBED_BY, uris),
    ]
    for qualifier, resources in terms:
        if not resources:
            continue
        if not species.isSetMetaId():
            _ok(species.setMetaId(f"meta_{node.name}"), f"annotate {node.name}", where)
        term = libsbml.CVTerm(libsbml.BIOLOGICAL_QUALIFIER)
        term.setBiologicalQualifierType(qualifier)
        for uri in resources:
            _ok(term.addResource(uri), f"annotate {node.name} with {uri}", where)
        _ok(species.addCVTerm(term), f"annotate {node.name}", where)


def _write_transition(transition: libsbml.Transition, tid: str, node: Node, where: str | None) -> None:
    """One transition: an input per regulator, the node as output, the rule as level-1 term."""
    assert node.rule is not None
    if not is_boolean(node.rule):
        raise ModelFormatError(f"the rule of {node.name} is not Boolean", where, hint="SBML-qual holds logic only")
    what = f"create the transition of {node.name}"
    _ok(transition.setId(tid), what, where)
    for regulator in sorted(variables(node.rule)):
        inp = transition.createInput()
        _ok(inp.setQualitativeSpecies(regulator), what, where)
        _ok(inp.setTransitionEffect(libsbml.INPUT_TRANSITION_EFFECT_NONE), what, where)
    output = transition.createOutput()
    _ok(output.setQualitativeSpecies(node.name), what, where)
    _ok(output.setTransitionEffect(libsbml.OUTPUT_TRANSITION_EFFECT_ASSIGNMENT_LEVEL), what, where)
    _ok(transition.createDefaultTerm().setResultLevel(0), what, where)
    term = transition.createFunctionTerm()
    _ok(term.setResultLevel(1), what, where)
    _ok(term.setMath(_mathml(node.rule)), what, where)


def _mathml(expr: Expr) -> libsbml.ASTNode:
    """MathML for a Boolean rule: ``A == 1`` for a node, ``A == 0`` for its negation, and
    n-ary ``and``/``or``/``xor`` for logical operators."""
    if isinstance(expr, Const):
        return libsbml.ASTNode(libsbml.AST_CONSTANT_TRUE if expr.value else libsbml.AST_CONSTANT_FALSE)
    if isinstance(expr, Var):
        return _level_test(expr.name, 1)
    if isinstance(expr, Not):
        if isinstance(expr.arg, Var):
            return _level_test(expr.arg.name, 0)
        return _apply(libsbml.AST_LOGICAL_NOT, [expr.arg])
    if isinstance(expr, Logic):
        return _apply(_MATHML_LOGICAL[expr.op], expr.args)
    raise ValueError(f"not a Boolean expression: {expr!r}")  # is_boolean was checked by the caller


def _apply(kind: int, args: Iterable[Expr]) -> libsbml.ASTNode:
    node = libsbml.ASTNode(kind)
    for arg in args:
        node.addChild(_mathml(arg))
    return node


def _level_test(name: str, level: int) -> libsbml.ASTNode:
    """``name == level``, as GINsim writes a Boolean literal."""
    node = libsbml.ASTNode(libsbml.AST_RELATIONAL_EQ)
    ci = libsbml.ASTNode(libsbml.AST_NAME)
    ci.setName(name)
    cn = libsbml.ASTNode(libsbml.AST_INTEGER)
    cn.setValue(level)
    node.addChild(ci)
    node.addChild(cn)
    return node


class _IdPool:
    """SBML identifiers not yet taken, so generated ids never collide with node names."""

    def __init__(self, taken: Iterable[str]) -> None:
        self.taken = set(taken)

    def new(self, stem: str) -> str:
        """``stem``, or ``stem_2``, ``stem_3``... when it is taken."""
        candidate, n = stem, 1
        while candidate in self.taken:
            n += 1
            candidate = f"{stem}_{n}"
        self.taken.add(candidate)
        return candidate


def _ok(status: int, what: str, where: str | None) -> None:
    """Turn a failed libsbml setter into a format error rather than a silently wrong file."""
    if status != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise ModelFormatError(f"cannot {what}: {libsbml.OperationReturnValue_toString(status)}", where)
