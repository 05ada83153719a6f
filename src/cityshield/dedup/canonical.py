"""One canonical key per real-world IOC, computed from an indicator's STIX pattern.

Cities report the same IOC in different spellings (``EXAMPLE.com.``, ``hxxp://evil[.]
example``, upper-case hashes, ``198.51.100.7/32``) and the same compound pattern with
its operands in a different order. :func:`canonical_ioc` maps all of those to one
:class:`CanonicalIOC`, whose ``key`` the hub dedupes on and whose ``pattern`` is the
STIX pattern the hub publishes.

How a pattern is read -- three paths, one answer:

* **Reference path.** The pattern is parsed by stix2-patterns (``Pattern``) and turned
  into stix2's pattern AST (``stix2.patterns`` classes) by the visitor behind
  ``stix2.pattern_visitor.create_pattern_object``, with its comparison methods fixed
  (:mod:`cityshield.dedup.pattern_ast` says why). The AST is then rendered canonically
  (:mod:`cityshield.dedup.pattern_render`).
* **Fallback.** stix2's AST classes refuse some patterns stix2-patterns accepts: AND
  of comparisons on different object types in one observation (satisfiable by no
  single SCO), ``WITHIN 2.5 SECONDS``, timestamps that are not real dates, quoted
  path steps with a list index (stix2 raises ValueError, TypeError or AttributeError).
  Those get a *token-normalised* form instead (:mod:`cityshield.dedup.pattern_tokens`):
  the pattern re-lexed and re-joined with canonical spacing, comments dropped. It is
  exact-text dedup (no reordering, no value normalisation), but it never conflates
  distinct patterns, stays a valid pattern, and these shapes are rare and mostly
  meaningless -- not worth a second canonicaliser.
* **Fast path.** ANTLR parsing dominates the cost, so the common one-comparison shape
  ``[type:path = 'literal']`` on the ingest validator's whitelisted paths is read with
  the validator's own regex (``cityshield.stix.validation.fast._FAST_PATTERN_RE``; its
  soundness against stix2-patterns is property-tested there). Property tests prove it
  yields exactly the reference path's result.

``canonical_ioc`` assumes a pattern that passed ingest validation; it only rejects
(``ValueError``) what it cannot read: syntax errors, hashes of the wrong length.
"""

from __future__ import annotations

from dataclasses import dataclass

from stix2patterns.exceptions import ParseException
from stix2patterns.v21.pattern import Pattern

from cityshield.dedup.pattern_ast import PatternBuilder
from cityshield.dedup.pattern_render import Unsupported, render_observation
from cityshield.dedup.pattern_tokens import token_form
from cityshield.stix.literals import quote as _quote
from cityshield.stix.literals import unescape as _unescape
from cityshield.stix.normalize import hash_algorithm, normalize_value
from cityshield.stix.validation.fast import _FAST_HASH_PATHS, _FAST_PATTERN_RE, _FAST_STRING_PATHS

__all__ = ["CanonicalIOC", "canonical_ioc", "canonical_value"]


@dataclass(frozen=True)
class CanonicalIOC:
    """The dedup identity of an indicator pattern."""

    key: str  # "ipv4-addr:value=198.51.100.7", or "pattern:<canonical compound form>"
    observable_type: str  # "ipv4-addr", "url", "file", ... or "compound"
    path: str | None  # "value", "hashes.'SHA-256'", ...; None for compound
    value: str | None  # normalised value; None for compound
    pattern: str  # canonical STIX pattern (what the hub publishes)


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
    else:
        return None
    return canonical_value(obj_type, names, _unescape(literal))


def canonical_value(obj_type: str, names: tuple[str, ...], raw: str) -> CanonicalIOC:
    """The canonical IOC of ``[obj_type:names = 'raw']`` without building or parsing a
    pattern: ``names`` is ``(property,)`` or ``("hashes", algorithm)`` in
    :func:`hash_algorithm` form. The key a pasted value is looked up by is therefore the
    one ingest stored. ``ValueError`` for a hash of the wrong length."""
    path = names[0] if len(names) == 1 else f"{names[0]}.{_quote(names[1])}"
    return _single(obj_type, path, normalize_value(obj_type, names, raw))


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
            ast = tree.visit(PatternBuilder())
        except (ValueError, TypeError, AttributeError):  # stix2's AST refuses it
            return _compound(token_form(pattern))
        try:
            form = render_observation(ast)
        except Unsupported:
            return _compound(token_form(pattern))
    except ParseException as exc:
        raise ValueError(f"unparseable STIX pattern: {exc}") from None
    except RecursionError:
        raise ValueError("STIX pattern nested too deeply") from None
    if form.ioc is not None:
        return _single(*form.ioc)
    return _compound(form.text)
