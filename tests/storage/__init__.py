"""Tests of joule.storage: engine, group commit, migrations."""
