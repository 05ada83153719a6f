"""Talking to a hub as a peer does: TAXII 2.1 writes (``taxii``), its public keys (``jwks``),
the objects a city sends (``objects``: read, attributed, signed) and the check of signed
objects against the hub's keys (``verify``).

One client for every outbound path, so ``cityshield submit`` today and push delivery and feed
pulls later share one set of error messages, retries and TAXII quirks; the CLI only parses
options and calls these.
"""
