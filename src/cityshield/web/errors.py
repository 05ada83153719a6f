"""The web page's own errors, in the hub's one exception tree (``cityshield.errors``).

    Unauthenticated (401)
    ├── SignInRequired         no session: the page sends the browser to sign-in
    │   └── SessionExpired     a session that ended (idle, too old, signed out, new token)
    └── SignInRefused          a wrong name or token: the form again, with the reason
    Forbidden (403)
    └── FormRefused            a POST without this session's CSRF token
    BadRequest (400)
    └── BadForm                a form body the page never sends

The sub-application (``web.app``) renders them as HTML pages or redirects, never as the
TAXII error JSON the API answers with.
"""

from __future__ import annotations

from cityshield.errors import BadRequest, Forbidden, Unauthenticated


class SignInRequired(Unauthenticated):
    title = "Sign in"


class SessionExpired(SignInRequired):
    title = "Session expired"


class SignInRefused(Unauthenticated):
    title = "Sign-in failed"


class FormRefused(Forbidden):
    title = "Form refused"


class BadForm(BadRequest):
    title = "Bad form"
