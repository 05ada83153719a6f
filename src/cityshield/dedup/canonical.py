"""One canonical key per real-world IOC, computed from an indicator's STIX pattern.

Cities report the same IOC in different spellings (``EXAMPLE.com.``, ``hxxp://evil[.]
example``, upper-case hashes, ``198.51.100.7/32``) and the same compound pattern with
its operands in a different order. :func:`canonical_ioc` maps all of those to one
:class:`CanonicalIOC`, whose ``key`` the hub dedupes on and whose ``pattern`` is the
STIX pattern the hub publishes.

How a pattern is read -- three paths, one answer:

* **Reference path.** The pattern is parsed by stix2-patterns (``Pattern``) and turned
  into stix2's pattern AST (``stix2.patterns`` classes) by the visitor behind
  ``stix2.pattern_visitor.create_pattern_object``. The AST is then rendered
  canonically (see below). ``create_pattern_object`` itself is not called because
  its visitor (stix2 3.0.2) gets comparisons wrong in ways that would merge opposite
  IOCs: it drops ``NOT`` on LIKE, MATCHES, IN, ISSUBSET, ISSUPERSET; reads
  ``NOT !=`` as ``!=``; crashes on ``NOT <``; and has no ``EXISTS``. :class:`_Builder`
  is that visitor with the comparison methods fixed; everything else is stix2's.
* **Fallback.** stix2's AST classes refuse some patterns stix2-patterns accepts: AND
  of comparisons on different object types in one observation (satisfiable by no
  single SCO), ``WITHIN 2.5 SECONDS``, timestamps that are not real dates, quoted
  path steps with a list index (stix2 raises ValueError, TypeError or AttributeError).
  Those get a *token-normalised* form instead: the pattern re-lexed by the
  stix2-patterns lexer and re-joined with canonical spacing, comments dropped. It is
  exact-text dedup (no reordering, no value normalisation), but it never conflates
  distinct patterns, stays a valid pattern, and these shapes are rare and mostly
  meaningless -- not worth a second canonicaliser.
* **Fast path.** ANTLR parsing dominates the cost, so the common one-comparison shape
  ``[type:path = 'literal']`` on the ingest validator's whitelisted paths is read with
  the validator's own regex (``cityshield.store.validation._FAST_PATTERN_RE``; its
  soundness against stix2-patterns is property-tested there). Property tests prove it
  yields exactly the reference path's result.

Canonical rendering (compound form): comparisons print as ``type:path OP value``
(``NOT =`` as ``!=``; other negations as ``NOT OP``); paths with bare names where the
grammar allows, quoted otherwise, and hash algorithms always quoted in
``hash-algorithm-ov`` spelling (``hashes.'SHA-256'``); string values of a non-negated
``=`` are normalised per observable type (:mod:`cityshield.dedup.normalize`), other
values only re-spelt (``IN`` sets sorted and deduplicated, hex lower-case, timestamps
without trailing zeros). Comparison AND/OR and observation AND/OR are flattened and
their operands sorted; duplicate operands are dropped where that is sound (comparison
AND/OR, observation OR). FOLLOWEDBY is flattened (it is associative) but keeps its
order. Qualifiers keep their order; a qualifier's operand is parenthesised unless it is
a plain ``[...]``, so the output never trips stix2-patterns' duplicate-qualifier check
(``[a] REPEATS 2 TIMES WITHIN 5 SECONDS`` -> ``([a] REPEATS 2 TIMES) WITHIN 5
SECONDS``, the same AST). A compound operand of AND/OR/FOLLOWEDBY is always
parenthesised, even where precedence would allow otherwise. A pattern that reduces to
one non-negated string equality is a *single* IOC, whatever its surface shape
(``([a = 'x' OR a = 'x'])`` included).

``canonical_ioc`` assumes a pattern that passed ingest validation; it only rejects
(``ValueError``) what it cannot read: syntax errors, hashes of the wrong length.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from antlr4 import InputStream
from stix2 import patterns as sp
from stix2.pattern_visitor import STIXPatternVisitorForSTIX21
from stix2patterns.exceptions import ParseException
from stix2patterns.v21.grammars.STIXPatternLexer import STIXPatternLexer
from stix2patterns.v21.grammars.STIXPatternParser import STIXPatternParser
from stix2patterns.v21.pattern import Pattern

from cityshield.stix.literals import quote as _quote
from cityshield.stix.literals import unescape as _unescape
from cityshield.stix.normalize import hash_algorithm, normalize_value
from cityshield.stix.validation.fast import _FAST_HASH_PATHS, _FAST_PATTERN_RE, _FAST_STRING_PATHS

__all__ = ["CanonicalIOC", "canonical_ioc"]


@dataclass(frozen=True)
class CanonicalIOC:
    """The dedup identity of an indicator pattern."""

    key: str  # "ipv4-addr:value=198.51.100.7", or "pattern:<canonical compound form>"
    observable_type: str  # "ipv4-addr", "url", "file", ... or "compound"
    path: str | None  # "value", "hashes.'SHA-256'", ...; None for compound
    value: str | None  # normalised value; None for compound
    pattern: str  # canonical STIX pattern (what the hub publishes)


# ------------------------------------------------------------------ literals

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Words the lexer reads as keywords/literals: such a property name must be quoted.
_RESERVED = frozenset(
    {
        *("AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET"),
        *("EXISTS", "LAST", "IN", "START", "STOP", "SECONDS", "true", "false", "WITHIN"),
        *("REPEATS", "TIMES"),
    }
)


class _Unsupported(Exception):
    """An AST shape the renderer does not canonicalise; use the fallback form."""


# ------------------------------------------------------------------ AST builder


class _Exists:
    """``[NOT] EXISTS path`` -- stix2 3.0.2 has no AST class for it."""

    def __init__(self, lhs: sp.ObjectPath, negated: bool) -> None:
        self.lhs = lhs
        self.negated = negated
        self.root_types = {lhs.object_type_name}


_ORDER_CLASSES = {
    "<": "LessThanComparisonExpression",
    "<=": "LessThanEqualComparisonExpression",
    ">": "GreaterThanComparisonExpression",
    ">=": "GreaterThanEqualComparisonExpression",
}


class _Builder(STIXPatternVisitorForSTIX21):
    """stix2's AST builder with its comparison visitors fixed (see module docstring)."""

    def __init__(self) -> None:
        super().__init__(STIXPatternParser)

    def _comparison(self, ctx: Any, class_name: str, negated: bool | None = None) -> Any:
        children = self.visitChildren(ctx)  # [objectPath, NOT?, operator, literal]
        if negated is None:
            negated = ctx.NOT() is not None
        return self.instantiate(class_name, children[0], children[-1], negated)

    def visitPropTestEqual(self, ctx: Any) -> Any:
        negated = (ctx.NOT() is not None) != (ctx.NEQ() is not None)
        return self._comparison(ctx, "EqualityComparisonExpression", negated)

    def visitPropTestOrder(self, ctx: Any) -> Any:
        op = next(t for t in (ctx.LT(), ctx.LE(), ctx.GT(), ctx.GE()) if t is not None)
        return self._comparison(ctx, _ORDER_CLASSES[op.getText()])

    def visitPropTestSet(self, ctx: Any) -> Any:
        return self._comparison(ctx, "InComparisonExpression")

    def visitPropTestLike(self, ctx: Any) -> Any:
        return self._comparison(ctx, "LikeComparisonExpression")

    def visitPropTestRegex(self, ctx: Any) -> Any:
        return self._comparison(ctx, "MatchesComparisonExpression")

    def visitPropTestIsSubset(self, ctx: Any) -> Any:
        return self._comparison(ctx, "IsSubsetComparisonExpression")

    def visitPropTestIsSuperset(self, ctx: Any) -> Any:
        return self._comparison(ctx, "IsSupersetComparisonExpression")

    def visitPropTestExists(self, ctx: Any) -> Any:
        return _Exists(self.visit(ctx.objectPath()), ctx.NOT() is not None)


# ------------------------------------------------------------------ rendering


@dataclass(frozen=True)
class _Form:
    """A canonically rendered (sub)expression."""

    text: str
    op: str = ""  # "" atom, "Q" qualified, else the flattened AND / OR / FOLLOWEDBY
    children: tuple[_Form, ...] = ()
    ioc: tuple[str, str, str] | None = None  # (type, path, value) of a plain `= 'string'`


_BINARY = frozenset({"AND", "OR", "FOLLOWEDBY"})


def _combine(op: str, forms: list[_Form], *, commutative: bool, idempotent: bool) -> _Form:
    """Flatten nested ``op``s, then sort/dedupe the operands where that is sound."""
    flat = [c for f in forms for c in (f.children if f.op == op else (f,))]
    if idempotent:
        flat = list({f.text: f for f in flat}.values())
    if commutative:
        flat.sort(key=lambda f: f.text)
    if len(flat) == 1:
        return flat[0]
    text = f" {op} ".join(f"({f.text})" if f.op in _BINARY else f.text for f in flat)
    return _Form(text, op, tuple(flat))


def _name(component: Any) -> tuple[str, object]:
    """(property name, list index or None) of one stix2 path component."""
    if isinstance(component, sp.StringConstant):  # quoted key step: raw literal body
        return _unescape(component.value), None
    if not isinstance(component, sp.BasicObjectPathComponent | sp.ListObjectPathComponent):
        raise _Unsupported(type(component).__name__)
    name = component.property_name
    if name[:1] == "'":  # a quoted first step arrives as the literal's text
        name = _unescape(name[1:-1])
    return name, getattr(component, "index", None)


def _path(path: sp.ObjectPath) -> tuple[str, tuple[str, ...]]:
    """Canonical path text and the unquoted names (for value normalisation)."""
    texts: list[str] = []
    names: list[str] = []
    previous = None
    for component in path.property_path:
        name, index = _name(component)
        if previous == "hashes" and index is None:
            name = hash_algorithm(name)
            text = _quote(name)
        elif _IDENT_RE.fullmatch(name) and name not in _RESERVED:
            text = name
        else:
            text = _quote(name)
        names.append(name)
        if index is not None:
            text += f"[{index}]"
            names.append(f"[{index}]")
        texts.append(text)
        previous = name if index is None else None
    return ".".join(texts), tuple(names)


def _timestamp(value: Any) -> str:
    frac = f".{value.microsecond:06d}".rstrip("0") if value.microsecond else ""
    return (
        f"t'{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}{frac}Z'"
    )


def _constant(constant: Any) -> str:
    if isinstance(constant, sp.StringConstant):
        return _quote(_unescape(constant.value))
    if isinstance(constant, sp.BooleanConstant):
        return "true" if constant.value else "false"
    if isinstance(constant, sp.IntegerConstant):
        return str(constant.value)
    if isinstance(constant, sp.FloatConstant):
        if not math.isfinite(constant.value):
            raise _Unsupported("float out of range")
        text = format(Decimal(repr(constant.value)), "f")  # no exponent in STIX floats
        return text if "." in text else text + ".0"
    if isinstance(constant, sp.HexConstant):
        return f"h'{constant.value.lower()}'"
    if isinstance(constant, sp.BinaryConstant):
        return f"b'{constant.value}'"
    if isinstance(constant, sp.TimestampConstant):
        return _timestamp(constant.value)
    if isinstance(constant, sp.ListConstant):  # IN (...) is a set
        return "(" + ", ".join(sorted({_constant(v) for v in constant.value})) + ")"
    raise _Unsupported(type(constant).__name__)


def _comparison(node: Any) -> _Form:
    while isinstance(node, sp.ParentheticalExpression):
        node = node.expression
    if isinstance(node, sp.AndBooleanExpression | sp.OrBooleanExpression):
        forms = [_comparison(operand) for operand in node.operands]
        return _combine(node.operator, forms, commutative=True, idempotent=True)
    if isinstance(node, _Exists):
        path, _ = _path(node.lhs)
        prefix = "NOT EXISTS" if node.negated else "EXISTS"
        return _Form(f"{prefix} {node.lhs.object_type_name}:{path}")
    if not isinstance(node, sp._ComparisonExpression):
        raise _Unsupported(type(node).__name__)
    obj_type = node.lhs.object_type_name
    path, names = _path(node.lhs)
    if node.operator == "=" and not node.negated and isinstance(node.rhs, sp.StringConstant):
        value = normalize_value(obj_type, names, _unescape(node.rhs.value))
        return _Form(f"{obj_type}:{path} = {_quote(value)}", ioc=(obj_type, path, value))
    if node.negated:
        op = "!=" if node.operator == "=" else f"NOT {node.operator}"
    else:
        op = node.operator
    return _Form(f"{obj_type}:{path} {op} {_constant(node.rhs)}")


def _qualifier(qualifier: Any) -> str:
    if isinstance(qualifier, sp.WithinQualifier):
        return f"WITHIN {_constant(qualifier.number_of_seconds)} SECONDS"
    if isinstance(qualifier, sp.RepeatQualifier):
        return f"REPEATS {_constant(qualifier.times_to_repeat)} TIMES"
    if isinstance(qualifier, sp.StartStopQualifier):
        return f"START {_constant(qualifier.start_time)} STOP {_constant(qualifier.stop_time)}"
    raise _Unsupported(type(qualifier).__name__)


def _observation(node: Any) -> _Form:
    while isinstance(node, sp.ParentheticalExpression):
        node = node.expression
    if isinstance(node, sp.ObservationExpression):
        inner = _comparison(node.operand)
        return _Form(f"[{inner.text}]", ioc=inner.ioc)
    if isinstance(node, sp.QualifiedObservationExpression):
        inner = _observation(node.observation_expression)
        text = inner.text if inner.op == "" else f"({inner.text})"
        return _Form(f"{text} {_qualifier(node.qualifier)}", op="Q")
    if isinstance(node, sp.AndObservationExpression | sp.OrObservationExpression):
        forms = [_observation(operand) for operand in node.operands]
        # [a] AND [a] may require two observations; [a] OR [a] is [a].
        idempotent = node.operator == "OR"
        return _combine(node.operator, forms, commutative=True, idempotent=idempotent)
    if isinstance(node, sp.FollowedByObservationExpression):
        forms = [_observation(operand) for operand in node.operands]
        return _combine("FOLLOWEDBY", forms, commutative=False, idempotent=False)
    raise _Unsupported(type(node).__name__)


# ------------------------------------------------------------------ fallback

_L = STIXPatternLexer
_NO_SPACE_AFTER = frozenset({_L.LBRACK, _L.LPAREN, _L.COLON, _L.DOT})
_NO_SPACE_BEFORE = frozenset({_L.RBRACK, _L.RPAREN, _L.COMMA, _L.COLON, _L.DOT})
_PATH_TOKENS = frozenset({_L.IdentifierWithoutHyphen, _L.IdentifierWithHyphen, _L.StringLiteral})


def _token_form(pattern: str) -> str:
    """The pattern's tokens re-joined with canonical spacing (comments dropped).

    The token sequence is unchanged, so the result parses exactly like the input.
    """
    lexer = STIXPatternLexer(InputStream(pattern))
    lexer.removeErrorListeners()
    out: list[str] = []
    previous = None
    for token in lexer.getAllTokens():
        if previous is not None and not (
            previous.type in _NO_SPACE_AFTER
            or token.type in _NO_SPACE_BEFORE
            or (token.type == _L.LBRACK and previous.type in _PATH_TOKENS)
        ):
            out.append(" ")
        out.append(token.text)
        previous = token
    return "".join(out)


# ------------------------------------------------------------------ entry point


def _single(obj_type: str, path: str, value: str) -> CanonicalIOC:
    pattern = f"[{obj_type}:{path} = {_quote(value)}]"
    return CanonicalIOC(f"{obj_type}:{path}={value}", obj_type, path, value, pattern)


def _compound(form_text: str) -> CanonicalIOC:
    return CanonicalIOC(f"pattern:{form_text}", "compound", None, None, form_text)


def _fast_single(pattern: str) -> CanonicalIOC | None:
    """The single IOC of a fast-path-shaped pattern, without ANTLR; None if not that shape."""
    m = _FAST_PATTERN_RE.fullmatch(pattern)
    if m is None:
        return None
    obj_type, path, literal = m.groups()
    if (obj_type, path) in _FAST_STRING_PATHS:
        names: tuple[str, ...] = (path,)
    elif obj_type == "file" and path in _FAST_HASH_PATHS:
        names = ("hashes", hash_algorithm(path.partition(".")[2].strip("'")))
        path = f"hashes.{_quote(names[1])}"
    else:
        return None
    return _single(obj_type, path, normalize_value(obj_type, names, _unescape(literal)))


def canonical_ioc(pattern: str, *, fast: bool = True) -> CanonicalIOC:
    """The canonical IOC of a STIX 2.1 pattern.

    Raises ``ValueError`` (with the reason) for a pattern that does not parse or that
    names a hash of the wrong length. ``fast=False`` forces the reference (AST) path;
    the result is the same, only slower.
    """
    if not isinstance(pattern, str):
        raise ValueError(f"pattern must be a string, not {type(pattern).__name__}")
    if fast:
        ioc = _fast_single(pattern)
        if ioc is not None:
            return ioc
    try:
        tree = Pattern(pattern)
        try:
            ast = tree.visit(_Builder())
        except (ValueError, TypeError, AttributeError):  # stix2's AST refuses it
            return _compound(_token_form(pattern))
        try:
            form = _observation(ast)
        except _Unsupported:
            return _compound(_token_form(pattern))
    except ParseException as exc:
        raise ValueError(f"unparseable STIX pattern: {exc}") from None
    except RecursionError:
        raise ValueError("STIX pattern nested too deeply") from None
    if form.ioc is not None:
        return _single(*form.ioc)
    return _compound(form.text)
