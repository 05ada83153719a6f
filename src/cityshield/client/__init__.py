"""Talking to TAXII servers as a peer does: TAXII 2.1 writes to a hub (``taxii``), pushes to
a member's own server with per-object outcomes (``push``), a hub's public keys (``jwks``),
the objects a city sends (``objects``: read, attributed, signed), the check of signed
objects against the hub's keys (``verify``), and reading a collection page by page for
feed pulls (``pull``).

One client for every outbound path, so ``cityshield submit``, push delivery and feed pulls
share one set of error messages, timeouts and TAXII quirks; the CLI only parses
options and calls these.
"""
