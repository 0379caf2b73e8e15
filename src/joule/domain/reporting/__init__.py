"""Reporting: KPIs computed from the operational data (shared/spec/reporting.md §3)."""
