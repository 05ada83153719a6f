"""The one error the client raises, with a message fit for a person.

    CityShieldError
    └── HubClientError (502)   hub unreachable, HTTP error, not a TAXII or JWKS answer,
                               collection unknown or not writable

502 because the client stands where a gateway would: the failure is the remote end's (or
the path to it), not the caller's request. The CLI prints ``description``; delivery will log it.
"""

from __future__ import annotations

from cityshield.errors import CityShieldError


class HubClientError(CityShieldError):
    http_status, title = 502, "Hub request failed"
