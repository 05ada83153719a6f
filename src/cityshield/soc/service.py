"""The analyst services in one place, for every front end (the REST API here, the web
page): keyword-only functions with the session first, returning the public models of
``soc.models`` or raising ``CityShieldError``; none touches a request.

Each lives in the module of its one idea; this module only gathers them.
"""

from __future__ import annotations

from cityshield.soc.actions import report_sighting, revocation_template, revoke_report
from cityshield.soc.detail import find_indicator, indicator_detail
from cityshield.soc.health import readiness
from cityshield.soc.lookup import lookup_values
from cityshield.soc.search import SearchQuery, search_indicators
from cityshield.soc.stats import submission_stats

__all__ = [
    "SearchQuery",
    "find_indicator",
    "indicator_detail",
    "lookup_values",
    "readiness",
    "report_sighting",
    "revocation_template",
    "revoke_report",
    "search_indicators",
    "submission_stats",
]
