"""Veiviser: a self-hosted member-service assistant, Norwegian first."""

__version__ = "0.1.0"
