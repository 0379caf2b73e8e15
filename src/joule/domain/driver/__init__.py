"""Drivers and their id tokens (issue 5): scoped, audited, AccessChanged after each change."""
