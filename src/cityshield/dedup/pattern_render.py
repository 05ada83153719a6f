"""The canonical text of a pattern's AST, so equal patterns render alike.

Canonical rendering (compound form): comparisons print as ``type:path OP value``
(``NOT =`` as ``!=``; other negations as ``NOT OP``); paths with bare names where the
grammar allows, quoted otherwise, and hash algorithms always quoted in
``hash-algorithm-ov`` spelling (``hashes.'SHA-256'``); string values of a non-negated
``=`` are normalised per observable type (:mod:`cityshield.stix.normalize`), other
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
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from stix2 import patterns as sp

from cityshield.dedup.pattern_ast import Exists
from cityshield.stix.literals import quote as _quote
from cityshield.stix.literals import unescape as _unescape
from cityshield.stix.normalize import hash_algorithm, normalize_value

__all__ = ["Form", "Unsupported", "render_observation"]

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Words the lexer reads as keywords/literals: such a property name must be quoted.
_RESERVED = frozenset(
    {
        *("AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET"),
        *("EXISTS", "LAST", "IN", "START", "STOP", "SECONDS", "true", "false", "WITHIN"),
        *("REPEATS", "TIMES"),
    }
)


class Unsupported(Exception):
    """An AST shape the renderer does not canonicalise; use the fallback form."""


@dataclass(frozen=True)
class Form:
    """A canonically rendered (sub)expression."""

    text: str
    op: str = ""  # "" atom, "Q" qualified, else the flattened AND / OR / FOLLOWEDBY
    children: tuple[Form, ...] = ()
    ioc: tuple[str, str, str] | None = None  # (type, path, value) of a plain `= 'string'`


_BINARY = frozenset({"AND", "OR", "FOLLOWEDBY"})


def _combine(op: str, forms: list[Form], *, commutative: bool, idempotent: bool) -> Form:
    """Flatten nested ``op``s, then sort/dedupe the operands where that is sound."""
    flat = [c for f in forms for c in (f.children if f.op == op else (f,))]
    if idempotent:
        flat = list({f.text: f for f in flat}.values())
    if commutative:
        flat.sort(key=lambda f: f.text)
    if len(flat) == 1:
        return flat[0]
    text = f" {op} ".join(f"({f.text})" if f.op in _BINARY else f.text for f in flat)
    return Form(text, op, tuple(flat))


def _name(component: Any) -> tuple[str, object]:
    """(property name, list index or None) of one stix2 path component."""
    if isinstance(component, sp.StringConstant):  # quoted key step: raw literal body
        return _unescape(component.value), None
    if not isinstance(component, sp.BasicObjectPathComponent | sp.ListObjectPathComponent):
        raise Unsupported(type(component).__name__)
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
            raise Unsupported("float out of range")
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
    raise Unsupported(type(constant).__name__)


def _comparison(node: Any) -> Form:
    while isinstance(node, sp.ParentheticalExpression):
        node = node.expression
    if isinstance(node, sp.AndBooleanExpression | sp.OrBooleanExpression):
        forms = [_comparison(operand) for operand in node.operands]
        return _combine(node.operator, forms, commutative=True, idempotent=True)
    if isinstance(node, Exists):
        path, _ = _path(node.lhs)
        prefix = "NOT EXISTS" if node.negated else "EXISTS"
        return Form(f"{prefix} {node.lhs.object_type_name}:{path}")
    if not isinstance(node, sp._ComparisonExpression):
        raise Unsupported(type(node).__name__)
    obj_type = node.lhs.object_type_name
    path, names = _path(node.lhs)
    if node.operator == "=" and not node.negated and isinstance(node.rhs, sp.StringConstant):
        value = normalize_value(obj_type, names, _unescape(node.rhs.value))
        return Form(f"{obj_type}:{path} = {_quote(value)}", ioc=(obj_type, path, value))
    if node.negated:
        op = "!=" if node.operator == "=" else f"NOT {node.operator}"
    else:
        op = node.operator
    return Form(f"{obj_type}:{path} {op} {_constant(node.rhs)}")


def _qualifier(qualifier: Any) -> str:
    if isinstance(qualifier, sp.WithinQualifier):
        return f"WITHIN {_constant(qualifier.number_of_seconds)} SECONDS"
    if isinstance(qualifier, sp.RepeatQualifier):
        return f"REPEATS {_constant(qualifier.times_to_repeat)} TIMES"
    if isinstance(qualifier, sp.StartStopQualifier):
        return f"START {_constant(qualifier.start_time)} STOP {_constant(qualifier.stop_time)}"
    raise Unsupported(type(qualifier).__name__)


def render_observation(node: Any) -> Form:
    while isinstance(node, sp.ParentheticalExpression):
        node = node.expression
    if isinstance(node, sp.ObservationExpression):
        inner = _comparison(node.operand)
        return Form(f"[{inner.text}]", ioc=inner.ioc)
    if isinstance(node, sp.QualifiedObservationExpression):
        inner = render_observation(node.observation_expression)
        text = inner.text if inner.op == "" else f"({inner.text})"
        return Form(f"{text} {_qualifier(node.qualifier)}", op="Q")
    if isinstance(node, sp.AndObservationExpression | sp.OrObservationExpression):
        forms = [render_observation(operand) for operand in node.operands]
        # [a] AND [a] may require two observations; [a] OR [a] is [a].
        idempotent = node.operator == "OR"
        return _combine(node.operator, forms, commutative=True, idempotent=idempotent)
    if isinstance(node, sp.FollowedByObservationExpression):
        forms = [render_observation(operand) for operand in node.operands]
        return _combine("FOLLOWEDBY", forms, commutative=False, idempotent=False)
    raise Unsupported(type(node).__name__)
