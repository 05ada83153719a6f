"""The delivery domain's errors (rendered like every other as a TAXII error body).

CityShieldError
├── BadRequest (400)
│   ├── InvalidTarget          a URL, view, option or credential combination refused
│   └── TargetPaused           retry asked of a paused target (resume it instead)
├── NotFound (404)
│   └── TargetNotFound         the member has no push target (or does not exist)
└── CredentialsUnreadable (500) the stored secret does not decrypt with this hub's key
"""

from __future__ import annotations

from cityshield.errors import BadRequest, CityShieldError, NotFound


class InvalidTarget(BadRequest):
    title = "Invalid push target"


class TargetPaused(BadRequest):
    title = "Push target paused"


class TargetNotFound(NotFound):
    title = "Push target not found"


class CredentialsUnreadable(CityShieldError):
    """The key file was replaced or ``CITYSHIELD_DELIVERY_SECRET_KEY`` changed."""

    title = "Push target credentials unreadable"
