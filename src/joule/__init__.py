"""Joule: an open-source Charging Station Management System."""

__version__ = "0.1.0"
