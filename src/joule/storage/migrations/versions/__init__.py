"""Date-prefixed Alembic revisions, one linear history."""
