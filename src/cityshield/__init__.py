"""cityshield: a TAXII 2.1 threat-sharing hub for a network of cities."""

__version__ = "0.1.0"
