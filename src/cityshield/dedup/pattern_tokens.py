"""The token-normalised form of a pattern, for shapes stix2's AST classes refuse.

Exact-text dedup: no reordering and no value normalisation, but spacing made canonical and
comments dropped, so it never conflates distinct patterns and stays a valid pattern.
"""

from __future__ import annotations

from antlr4 import InputStream
from stix2patterns.v21.grammars.STIXPatternLexer import STIXPatternLexer

__all__ = ["token_form"]

_L = STIXPatternLexer
_NO_SPACE_AFTER = frozenset({_L.LBRACK, _L.LPAREN, _L.COLON, _L.DOT})
_NO_SPACE_BEFORE = frozenset({_L.RBRACK, _L.RPAREN, _L.COMMA, _L.COLON, _L.DOT})
_PATH_TOKENS = frozenset({_L.IdentifierWithoutHyphen, _L.IdentifierWithHyphen, _L.StringLiteral})


def token_form(pattern: str) -> str:
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
