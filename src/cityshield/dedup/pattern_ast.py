"""The AST of a STIX pattern: stix2's pattern classes, built by a fixed visitor.

stix2's own ``create_pattern_object`` (3.0.2) gets comparisons wrong in ways that would merge
opposite IOCs: it drops ``NOT`` on LIKE, MATCHES, IN, ISSUBSET, ISSUPERSET; reads ``NOT !=``
as ``!=``; crashes on ``NOT <``; and has no ``EXISTS``. :class:`PatternBuilder` is its
visitor with the comparison methods fixed; everything else is stix2's.
"""

from __future__ import annotations

from typing import Any

from stix2 import patterns as sp
from stix2.pattern_visitor import STIXPatternVisitorForSTIX21
from stix2patterns.v21.grammars.STIXPatternParser import STIXPatternParser

__all__ = ["Exists", "PatternBuilder"]


class Exists:
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


class PatternBuilder(STIXPatternVisitorForSTIX21):  # type: ignore[misc]  # stix2 is untyped
    """stix2's AST builder with its comparison visitors fixed (see the module docstring)."""

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
        return Exists(self.visit(ctx.objectPath()), ctx.NOT() is not None)
