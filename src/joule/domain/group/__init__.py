"""Access groups, their members and access rules (issue 5)."""
