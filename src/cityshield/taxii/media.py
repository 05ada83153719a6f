"""TAXII 2.1 content negotiation: 406 for an Accept we cannot satisfy, 415 for a body
that is not a TAXII envelope."""

from __future__ import annotations

from cityshield.errors import NotAcceptable, UnsupportedMediaType

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"


def _parse_range(text: str) -> tuple[str, dict[str, str]]:
    kind, *params = (part.strip() for part in text.split(";"))
    parsed: dict[str, str] = {}
    for param in params:
        key, _, value = param.partition("=")
        parsed[key.strip().lower()] = value.strip().strip('"')
    return kind.lower(), parsed


def _is_taxii_21(kind: str, params: dict[str, str]) -> bool:
    return kind == "application/taxii+json" and params.get("version", "2.1") == "2.1"


def require_acceptable(accept: str | None) -> None:
    """Accept must allow TAXII 2.1 JSON (a missing header or ``*/*`` does)."""
    if not accept:
        return
    for media_range in accept.split(","):
        kind, params = _parse_range(media_range)
        if params.get("q", "1").strip() in ("0", "0.0", "0.00", "0.000"):
            continue
        if kind in ("*/*", "application/*") or _is_taxii_21(kind, params):
            return
    raise NotAcceptable(f"This server only produces {TAXII_MEDIA_TYPE}; Accept was {accept!r}.")


def require_taxii_content(content_type: str | None) -> None:
    """A POST body must be declared as a TAXII 2.1 envelope."""
    kind, params = _parse_range(content_type or "")
    if not _is_taxii_21(kind, params):
        raise UnsupportedMediaType(
            f"Send the envelope as {TAXII_MEDIA_TYPE}; Content-Type was {content_type!r}."
        )
