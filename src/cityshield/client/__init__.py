"""Talking to a hub as a peer does: TAXII 2.1 writes (``taxii``) and its public keys (``jwks``).

One client for every outbound path, so ``cityshield submit`` today and push delivery and feed
pulls later share one set of error messages, retries and TAXII quirks.
"""
