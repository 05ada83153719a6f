"""Exports: each member's indicator lists for firewalls, DNS filters, IDS and SIEMs.

Modules, bottom up: ``values`` (firewall-safe values: what a list may hold, URL forms, range
limits, collapsing), ``query`` (the request, checked; the member's policy defaults),
``entries`` (the member's own network views, the only source), ``select`` (thresholds,
known-benign values, ``max``), ``render`` (EDL, CSV, STIX, Zeek, Suricata), ``versions``
(ETag and ``since`` tokens), ``service`` (one call per request) and ``api`` (the routes).
docs/exports.md says what each list holds and why.
"""
