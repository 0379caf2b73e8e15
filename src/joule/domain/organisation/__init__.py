"""Organisations: a CPO and its sub-operators and site hosts, as a tree (issue 5)."""
