"""Alembic migrations shipped inside the package; run them through joule.storage.migrate."""
