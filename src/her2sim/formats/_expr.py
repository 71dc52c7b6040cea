"""Reading and writing expressions in each format's dialect.

One tokenizer and one precedence-climbing parser serve every text format; a :class:`Dialect`
says which spellings exist (``!``/``not``, ``&``/``and``, ``$param``, arithmetic, ...) and how
tightly operators bind. Tokens carry their line and column, so every syntax error names
``file:line:col``. Nothing here calls ``eval``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from her2sim.errors import ModelFormatError
from her2sim.model.expr import (
    LOGICAL,
    MAX_DEPTH,
    Attr,
    BinOp,
    Call,
    Cond,
    Const,
    Expr,
    Logic,
    Neg,
    Not,
    Param,
    Var,
    depth,
)

__all__ = ["BNET", "BOOLEANNET", "MABOSS", "Dialect", "format_expr", "parse_expr"]


@dataclass(frozen=True)
class Dialect:
    """How one file format spells expressions.

    ``binary`` maps each operator token (as it appears in the text, lower-case for words) to
    (tree operator, precedence); a higher precedence binds tighter. ``words`` are operator
    keywords matched case-insensitively when ``case_insensitive_words`` is set.
    """

    name: str
    binary: dict[str, tuple[str, int]]
    not_tokens: frozenset[str]
    out_ops: dict[str, str]
    out_not: str
    out_true: str = "1"
    out_false: str = "0"
    true_words: frozenset[str] = frozenset()
    false_words: frozenset[str] = frozenset()
    numbers: bool = False
    arithmetic: bool = False
    conditional: bool = False
    sigils: bool = False
    identifier: str = r"[A-Za-z_][A-Za-z_0-9]*"
    words: frozenset[str] = field(default_factory=frozenset)
    case_insensitive_words: bool = False

    def precedence(self, op: str) -> int:
        """Binding strength of tree operator ``op`` in this dialect."""
        return max(p for o, p in self.binary.values() if o == op)


MABOSS = Dialect(
    name="MaBoSS",
    binary={
        "^": ("^", 1),
        "xor": ("^", 1),
        "|": ("|", 2),
        "||": ("|", 2),
        "or": ("|", 2),
        "&": ("&", 3),
        "&&": ("&", 3),
        "and": ("&", 3),
        "==": ("==", 4),
        "!=": ("!=", 4),
        "<": ("<", 5),
        ">": (">", 5),
        "<=": ("<=", 5),
        ">=": (">=", 5),
        "+": ("+", 6),
        "-": ("-", 6),
        "*": ("*", 7),
        "/": ("/", 7),
    },
    not_tokens=frozenset({"!", "not"}),
    out_ops={
        "&": "&",
        "|": "|",
        "^": "^",
        "+": "+",
        "-": "-",
        "*": "*",
        "/": "/",
        "==": "==",
        "!=": "!=",
        "<": "<",
        ">": ">",
        "<=": "<=",
        ">=": ">=",
    },
    out_not="!",
    true_words=frozenset({"true"}),
    false_words=frozenset({"false"}),
    numbers=True,
    arithmetic=True,
    conditional=True,
    sigils=True,
    words=frozenset({"not", "and", "or", "xor"}),
    case_insensitive_words=True,
)

BNET = Dialect(
    name="BoolNet",
    binary={"|": ("|", 1), "&": ("&", 2)},
    not_tokens=frozenset({"!"}),
    out_ops={"&": "&", "|": "|"},
    out_not="!",
    true_words=frozenset({"true", "1"}),
    false_words=frozenset({"false", "0"}),
    identifier=r"[A-Za-z0-9_.]+",
    case_insensitive_words=True,
)

BOOLEANNET = Dialect(
    name="BooleanNet",
    binary={"or": ("|", 1), "and": ("&", 2)},
    not_tokens=frozenset({"not"}),
    out_ops={"&": "and", "|": "or"},
    out_not="not",
    out_true="True",
    out_false="False",
    # Published BooleanNet-style models write constant rules as 0 and 1 (jgtz/BreastCancerModelv2).
    true_words=frozenset({"true", "1"}),
    false_words=frozenset({"false", "0"}),
    identifier=r"[A-Za-z_][A-Za-z_0-9]*|[01](?![A-Za-z_0-9])",
    words=frozenset({"not", "and", "or"}),
    case_insensitive_words=True,
)

_NUMBER = r"(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"
_PUNCT = ["&&", "||", "==", "!=", "<=", ">=", "!", "&", "|", "^", "+", "-", "*", "/", "<", ">",
          "?", ":", "(", ")", ","]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "id", "param", "attr", "num", "op", "end"
    text: str
    line: int
    col: int


class _Lexer:
    def __init__(self, dialect: Dialect) -> None:
        parts = []
        if dialect.sigils:
            parts.append(r"(?P<param>\$[A-Za-z_][A-Za-z_0-9]*)")
            parts.append(r"(?P<attr>@[A-Za-z_][A-Za-z_0-9]*)")
        if dialect.numbers:
            parts.append(rf"(?P<num>{_NUMBER})(?![A-Za-z_])")
        parts.append(rf"(?P<id>{dialect.identifier})")
        parts.append("(?P<op>" + "|".join(re.escape(p) for p in _PUNCT) + ")")
        self.pattern = re.compile("|".join(parts))
        self.dialect = dialect

    def tokens(self, text: str, source: str | None, line: int, col: int) -> list[Token]:
        out: list[Token] = []
        pos = 0
        cur_line, line_start = line, -col + 1
        while pos < len(text):
            ch = text[pos]
            if ch == "\n":
                cur_line += 1
                line_start = pos + 1
                pos += 1
                continue
            if ch.isspace():
                pos += 1
                continue
            m = self.pattern.match(text, pos)
            if m is None or m.end() == pos:
                raise ModelFormatError(
                    f"unexpected character {ch!r} in {self.dialect.name} expression",
                    source, cur_line, pos - line_start + 1,
                )  # fmt: skip
            kind = m.lastgroup or "op"
            out.append(Token(kind, m.group(), cur_line, pos - line_start + 1))
            pos = m.end()
        out.append(Token("end", "", cur_line, pos - line_start + 1))
        return out


_LEXERS: dict[str, _Lexer] = {}
#: Deepest nesting of parentheses, conditionals and unary operators an expression may have;
#: about four Python frames a level, so the default recursion limit (1000) is never reached first.
MAX_NESTING = 150


class _Parser:
    def __init__(self, dialect: Dialect, tokens: list[Token], source: str | None) -> None:
        self.d = dialect
        self.toks = tokens
        self.i = 0
        self.depth = 0
        self.source = source

    def peek(self) -> Token:
        return self.toks[self.i]

    def fail(self, tok: Token, message: str, hint: str | None = None) -> ModelFormatError:
        return ModelFormatError(message, self.source, tok.line, tok.col, hint)

    def word(self, tok: Token) -> str:
        if tok.kind == "id" and self.d.case_insensitive_words:
            return tok.text.lower()
        return tok.text

    def binary_op(self, tok: Token) -> tuple[str, int] | None:
        if tok.kind == "op":
            return self.d.binary.get(tok.text)
        if tok.kind == "id" and self.word(tok) in self.d.words:
            return self.d.binary.get(self.word(tok))
        return None

    def expect(self, text: str) -> Token:
        tok = self.peek()
        if tok.kind != "op" or tok.text != text:
            found = repr(tok.text) if tok.kind != "end" else "end of expression"
            raise self.fail(tok, f"expected {text!r}, found {found}")
        self.i += 1
        return tok

    def parse(self) -> Expr:
        if self.peek().kind == "end":
            raise self.fail(self.peek(), "empty expression")
        expr = self.conditional()
        tok = self.peek()
        if tok.kind == "op" and tok.text == ")":
            raise self.fail(tok, "unbalanced parentheses: unexpected ')'", "this ')' closes no '('")
        if tok.kind != "end":
            raise self.fail(tok, f"unexpected {tok.text!r} after a complete expression",
                            "an operator or a parenthesis is missing")  # fmt: skip
        return expr

    def nest(self) -> None:
        """Count one more level of nesting; too many is an error, whatever the recursion limit.

        Importing some libraries (mpbn) raises Python's recursion limit to 100000, past the C
        stack, so the parser cannot rely on RecursionError to stop at a sane depth.
        """
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise RecursionError

    def conditional(self) -> Expr:
        self.nest()
        test = self.binary(1)
        tok = self.peek()
        if self.d.conditional and tok.kind == "op" and tok.text == "?":
            self.i += 1
            then = self.conditional()
            self.expect(":")
            orelse = self.conditional()
            test = Cond(test, then, orelse)
        self.depth -= 1
        return test

    def binary(self, min_prec: int) -> Expr:
        """Operators binding at least ``min_prec``, by precedence climbing.

        A run of one logical operator (``A & B & C``) becomes one :class:`Logic` node, so a
        rule with thousands of operands is as shallow as one with two.
        """
        left = self.unary()
        run_op, run = "", [left]
        while True:
            tok = self.peek()
            op = self.binary_op(tok)
            if op is None or op[1] < min_prec:
                return _joined(run_op, run)
            self.i += 1
            right = self.binary(op[1] + 1)
            if op[0] != run_op:
                run_op, run = op[0], [_joined(run_op, run)]
            if op[0] in LOGICAL:
                run.append(right)
            else:
                run_op, run = "", [BinOp(op[0], run[0], right)]

    def unary(self) -> Expr:
        tok = self.peek()
        if (tok.kind == "op" and tok.text in self.d.not_tokens) or (
            tok.kind == "id" and self.word(tok) in self.d.not_tokens
        ):
            self.i += 1
            self.nest()
            arg = self.unary()
            self.depth -= 1
            return Not(arg)
        if self.d.arithmetic and tok.kind == "op" and tok.text in "+-":
            self.i += 1
            self.nest()
            arg = self.unary()
            self.depth -= 1
            if tok.text == "+":
                return arg
            return Const(-arg.value) if isinstance(arg, Const) else Neg(arg)
        return self.primary()

    def primary(self) -> Expr:
        tok = self.peek()
        self.i += 1
        if tok.kind == "op" and tok.text == "(":
            inner = self.conditional()
            closing = self.peek()
            if closing.kind != "op" or closing.text != ")":
                raise self.fail(closing, "unbalanced parentheses: ')' expected",
                                f"the '(' at line {tok.line}, column {tok.col} is never closed")  # fmt: skip
            self.i += 1
            return inner
        if tok.kind == "num":
            return Const(float(tok.text))
        if tok.kind == "param":
            return Param(tok.text[1:])
        if tok.kind == "attr":
            return Attr(tok.text[1:])
        if tok.kind == "id":
            word = self.word(tok)
            if word in self.d.true_words:
                return Const(1.0)
            if word in self.d.false_words:
                return Const(0.0)
            if word in self.d.words:
                raise self.fail(tok, f"operator {tok.text!r} where a value was expected")
            nxt = self.peek()
            if self.d.arithmetic and nxt.kind == "op" and nxt.text == "(":
                self.i += 1
                args: list[Expr] = []
                if not (self.peek().kind == "op" and self.peek().text == ")"):
                    args.append(self.conditional())
                    while self.peek().kind == "op" and self.peek().text == ",":
                        self.i += 1
                        args.append(self.conditional())
                self.expect(")")
                return Call(tok.text, tuple(args))
            return Var(tok.text)
        if tok.kind == "end":
            raise self.fail(tok, "expression ends where a value was expected")
        if tok.kind == "op" and tok.text == ")":
            raise self.fail(tok, "unbalanced parentheses: unexpected ')'")
        raise self.fail(tok, f"unexpected {tok.text!r} where a value was expected")


def _joined(op: str, operands: list[Expr]) -> Expr:
    """One operand as itself, or a run of one logical operator as a flat :class:`Logic`."""
    return operands[0] if len(operands) == 1 else Logic(op, tuple(operands))


def parse_expr(
    text: str,
    dialect: Dialect,
    source: str | None = None,
    line: int = 1,
    col: int = 1,
) -> Expr:
    """Parse ``text`` in ``dialect``; ``line``/``col`` locate its first character in ``source``.

    >>> parse_expr("A & !(B | C) & D", BNET)
    Logic(op='&', args=(Var(name='A'), Not(arg=Logic(op='|', args=(Var(name='B'), Var(name='C')))), Var(name='D')))
    """
    lexer = _LEXERS.get(dialect.name)
    if lexer is None:
        lexer = _LEXERS[dialect.name] = _Lexer(dialect)
    too_deep = ModelFormatError(f"{dialect.name} expression nested too deeply", source, line, col,
                                f"her2sim reads expressions up to {MAX_DEPTH} levels deep")  # fmt: skip
    try:
        expr = _Parser(dialect, lexer.tokens(text, source, line, col), source).parse()
    except RecursionError:
        raise too_deep from None
    if depth(expr) > MAX_DEPTH:
        raise too_deep
    return expr


# --------------------------------------------------------------------------- printing
_ATOM = 100
_UNARY = 90


def _number(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def format_expr(expr: Expr, dialect: Dialect) -> str:
    """Write ``expr`` in ``dialect`` with as few parentheses as the precedences allow.

    Raises :class:`ValueError` when the dialect cannot express ``expr`` (a rate in BoolNet).

    >>> format_expr(parse_expr("(A | B) & !C", BNET), BNET)
    '(A | B) & !C'
    """

    def fmt(e: Expr) -> tuple[str, int]:
        if isinstance(e, Const):
            if not dialect.numbers:
                if e.value not in (0.0, 1.0):
                    raise ValueError(f"{dialect.name} cannot express the number {e.value}")
                return (dialect.out_true if e.value else dialect.out_false), _ATOM
            if not math.isfinite(e.value):  # "inf" or "nan" would read back as a node name
                raise ValueError(f"{dialect.name} cannot express the number {e.value}")
            if e.value < 0:
                return _number(e.value), _UNARY
            return _number(e.value), _ATOM
        if isinstance(e, Var):
            return e.name, _ATOM
        if isinstance(e, Param):
            if not dialect.sigils:
                raise ValueError(f"{dialect.name} cannot express the parameter ${e.name}")
            return "$" + e.name, _ATOM
        if isinstance(e, Attr):
            if not dialect.sigils:
                raise ValueError(f"{dialect.name} cannot express the attribute @{e.name}")
            return "@" + e.name, _ATOM
        if isinstance(e, Not):
            inner = wrap(e.arg, _UNARY)
            sep = " " if dialect.out_not.isalpha() else ""
            return f"{dialect.out_not}{sep}{inner}", _UNARY
        if isinstance(e, Neg):
            if not dialect.arithmetic:
                raise ValueError(f"{dialect.name} cannot express arithmetic")
            return f"-{wrap(e.arg, _UNARY)}", _UNARY
        if isinstance(e, Logic):
            if e.op not in dialect.out_ops:
                raise ValueError(f"{dialect.name} cannot express the operator {e.op!r}")
            prec = dialect.precedence(e.op)
            # operands bind tighter than the operator, so a nested run keeps its parentheses
            return f" {dialect.out_ops[e.op]} ".join(wrap(a, prec + 1) for a in e.args), prec
        if isinstance(e, BinOp):
            if e.op not in dialect.out_ops:
                raise ValueError(f"{dialect.name} cannot express the operator {e.op!r}")
            prec = dialect.precedence(e.op)
            left = wrap(e.left, prec)
            right = wrap(e.right, prec + 1)
            return f"{left} {dialect.out_ops[e.op]} {right}", prec
        if isinstance(e, Cond):
            if not dialect.conditional:
                raise ValueError(f"{dialect.name} cannot express a conditional")
            return f"{wrap(e.test, 1)} ? {fmt(e.then)[0]} : {fmt(e.orelse)[0]}", 0
        if isinstance(e, Call):
            if not dialect.arithmetic:
                raise ValueError(f"{dialect.name} cannot express the function {e.func}()")
            return f"{e.func}({', '.join(fmt(a)[0] for a in e.args)})", _ATOM
        raise TypeError(f"not an expression: {e!r}")

    def wrap(e: Expr, min_prec: int) -> str:
        text, prec = fmt(e)
        return f"({text})" if prec < min_prec else text

    return fmt(expr)[0]
