"""Talking to TAXII servers as a peer does: writes to a hub (``taxii``), pushes to a
member's own server with per-object outcomes (``push``), and a hub's public keys (``jwks``).

One client for every outbound path, so ``cityshield submit``, push delivery and (later)
feed pulls share one set of error messages, timeouts and TAXII quirks.
"""
