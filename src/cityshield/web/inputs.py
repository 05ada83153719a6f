"""What the analyst pages' forms send, read into the requests of the soc service.

A browser sends every field of a form, blank ones as empty strings, numbers as text, and
times in the shape of ``<input type="datetime-local">`` (``2026-11-20T10:00``, no zone).
Reading that is the page's part: a blank field is no filter, a time without a zone is UTC
(the page says every time is), a date alone is its midnight. What the values mean, and
whether they are acceptable, stays the soc service's: it checks them as it does for the
API and its reasons are what the page shows.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from pydantic import ValidationError

from cityshield import strictjson
from cityshield.errors import InvalidFilter, describe_invalid_request
from cityshield.soc.models import SightingRequest
from cityshield.soc.search import MAX_LIMIT, SearchQuery
from cityshield.stix.vocabulary import TLP_ORDER
from cityshield.timefmt import parse_timestamp
from cityshield.web.errors import BadForm

MATCHES = {"exact": "is (any spelling)", "prefix": "starts with", "contains": "contains"}
"""How the search box's text is matched: ``SearchQuery.value``, ``prefix``, ``contains``."""
SORTS = {
    "-last_seen": "last seen, newest first",
    "last_seen": "last seen, oldest first",
    "-members": "most members first",
    "-confidence": "most confident first",
    "-first_seen": "first seen, newest first",
    "first_seen": "first seen, oldest first",
    "value": "value, A to Z",
    "-value": "value, Z to A",
}
LIMITS = (50, 100, MAX_LIMIT)
_LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:T(\d{2}:\d{2})(:\d{2}(?:\.\d{1,6})?)?)?")
_WHOLE = re.compile(r"[0-9]{1,9}")
_INDICATOR_REF = re.compile(r"[0-9a-f]{32}|indicator--[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")


def rfc3339(text: str) -> str | None:
    """A form's time as RFC 3339 text (None if blank): ``datetime-local``'s shape and a
    bare date are read as UTC; anything else is passed on as typed, for the service to
    accept or explain."""
    text = text.strip()
    if not text:
        return None
    match = _LOCAL_TIME.fullmatch(text)
    if match is None:
        return text
    if match.group(1) is None:
        return f"{text}T00:00:00Z"
    return f"{text}Z" if match.group(2) else f"{text}:00Z"


def _time(name: str, text: str) -> int | None:
    stamp = rfc3339(text)
    if stamp is None:
        return None
    try:
        return parse_timestamp(stamp)
    except ValueError:
        raise InvalidFilter(
            f"{name}: not a time; give a date and time such as 2026-11-20T10:00 (UTC) "
            "or an RFC 3339 timestamp."
        ) from None


def _whole(name: str, text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not _WHOLE.fullmatch(text):
        raise InvalidFilter(f"{name}: a whole number, such as 2.")
    return int(text)


@dataclass(frozen=True)
class SearchForm:
    """The search form as sent (shown again as typed, and repeated by the next-page link)."""

    q: str = ""
    match: str = "exact"
    type: str = ""
    member: str = ""
    tlp: str = ""
    min_members: str = ""
    seen_after: str = ""
    seen_before: str = ""
    state: str = ""
    sort: str = "-last_seen"
    limit: str = str(LIMITS[0])
    cursor: str = ""
    submitted: bool = False
    """Whether the form was sent at all (a bare /search shows the empty form)."""

    def query(self) -> SearchQuery:
        """The soc search this form asks for; InvalidFilter for a field no search takes."""
        if self.match not in MATCHES:
            raise InvalidFilter(f"match must be one of {', '.join(MATCHES)}.")
        if self.tlp and self.tlp not in TLP_ORDER:
            raise InvalidFilter(f"tlp must be one of {', '.join(TLP_ORDER)}.")
        text = self.q.strip() or None
        limit = _whole("limit", self.limit)
        return SearchQuery(
            value=text if self.match == "exact" else None,
            prefix=text if self.match == "prefix" else None,
            contains=text if self.match == "contains" else None,
            observable_type=self.type.strip() or None,
            member=self.member.strip() or None,
            tlp=self.tlp or None,
            min_members=_whole("min_members", self.min_members),
            seen_after_us=_time("seen_after", self.seen_after),
            seen_before_us=_time("seen_before", self.seen_before),
            state=self.state or None,
            sort=self.sort,
            limit=LIMITS[0] if limit is None else limit,
            cursor=self.cursor or None,
        )

    def link(self, cursor: str | None = None) -> str:
        """The query string of this search (its filled fields), at ``cursor``."""
        fields = asdict(self)
        del fields["submitted"]
        fields["cursor"] = cursor or ""
        return urlencode({name: value for name, value in fields.items() if value})


Field = Annotated[str, Query(max_length=4096)]
Short = Annotated[str, Query(max_length=100)]


def search_form(
    request: Request,
    q: Field = "",
    match: Short = "exact",
    type: Short = "",
    member: Short = "",
    tlp: Short = "",
    min_members: Short = "",
    seen_after: Short = "",
    seen_before: Short = "",
    state: Short = "",
    sort: Short = "-last_seen",
    limit: Short = str(LIMITS[0]),
    cursor: Annotated[str, Query(max_length=2000)] = "",
) -> SearchForm:
    """The search form from the query string (a dependency of the search page)."""
    return SearchForm(
        q=q,
        match=match,
        type=type,
        member=member,
        tlp=tlp,
        min_members=min_members,
        seen_after=seen_after,
        seen_before=seen_before,
        state=state,
        sort=sort,
        limit=limit,
        cursor=cursor,
        submitted=bool(request.query_params),
    )


def pasted_values(text: str) -> list[str]:
    """The bulk-lookup box: one value a line, surrounding blanks and empty lines dropped
    (a column pasted from a spreadsheet or a log is a value a line already)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def sighting_request(form: dict[str, str]) -> SightingRequest:
    """The sighting form as the API's request (blank fields left out, so the service's
    defaults apply); BadForm with the reasons for numbers that are not."""
    fields: dict[str, Any] = {
        "count": form.get("count", "").strip() or None,
        "confidence": form.get("confidence", "").strip() or None,
        "first_seen": rfc3339(form.get("first_seen", "")),
        "last_seen": rfc3339(form.get("last_seen", "")),
        "tlp": form.get("tlp") or None,
        "description": form.get("description", "").strip() or None,
    }
    try:
        return SightingRequest.model_validate(fields)
    except ValidationError as exc:
        raise BadForm(describe_invalid_request(exc.errors())) from None


def signed_revocation(text: str) -> dict[str, Any] | None:
    """The pasted signed revocation (what ``cityshield sign`` printed: the object or a
    bundle of it), or None if the box was left empty (a report the hub signed)."""
    if not text.strip():
        return None
    try:
        value = strictjson.loads(text.encode("utf-8"))
    except ValueError as exc:
        raise BadForm(f"The signed revocation is not JSON: {exc}.") from None
    if not isinstance(value, dict):
        raise BadForm("The signed revocation must be a JSON object (or a bundle of one).")
    return value


def indicator_ref(text: str) -> str | None:
    """An indicator's ``ref`` or network indicator id from a form (where to go back to),
    or None for anything else: a redirect is only ever to one of the page's own paths."""
    return text if _INDICATOR_REF.fullmatch(text) else None
