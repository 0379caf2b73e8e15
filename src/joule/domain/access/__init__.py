"""Who may see and change what: organisation scopes, roles and site grants (issue 5)."""
