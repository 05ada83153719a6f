"""Feeds the hub pulls on a schedule: public block lists (CSV, plain text), other TAXII 2.1
servers and other cityshield hubs (docs/feeds.md).

A feed is defined by a YAML file (``definition``, ``load``), acts through a principal of
role ``feed`` with its own hub-held key (``principals``, ``keys``), and everything it
pulls enters through the one ingest path (``flows.ingest.add_objects``), attributed to it.
"""
