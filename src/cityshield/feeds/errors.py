"""The feeds' errors.

    CityShieldError
    ├── BadRequest
    │   └── FeedDefinitionError (400)   a definition file is invalid, or no such feed
    └── FeedPullError (502)             the feed could not be pulled: unreachable, an HTTP
                                        error, not what its kind promises, too large or
                                        too slow, a credential missing from the environment

A pull error is recorded in the feed's health and retried at its next interval; it is
never a worker failure, since one dead feed must not look like a broken hub.
"""

from __future__ import annotations

from cityshield.errors import BadRequest, CityShieldError


class FeedDefinitionError(BadRequest):
    title = "Invalid feed definition"


class FeedPullError(CityShieldError):
    http_status, title = 502, "Feed pull failed"
