"""The analysts' web page under ``/ui/``: server-rendered templates, no JavaScript.

Sign-in with a member's name and token opens a server-side session (``sessions``); every
page reads through the sharing-policy layer as the signed-in member, exactly as that
member's TAXII reads do, so the page can show nothing its API could not. ``app`` builds
the mounted sub-application (HTML error pages, security headers); ``api`` holds the routes.
"""
