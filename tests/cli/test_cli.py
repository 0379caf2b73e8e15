"""The `joule` command line against a real database: db, operator and station groups."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from joule.cli.main import app

runner = CliRunner()


def test_db_current_and_idempotent_upgrade(database_url: str) -> None:
    result = runner.invoke(app, ["db", "current", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert "(up to date)" in result.output
    result = runner.invoke(app, ["db", "upgrade", "--database-url", database_url])
    assert result.exit_code == 0 and "database at" in result.output


def test_db_upgrade_of_an_empty_database(empty_database_url: str) -> None:
    result = runner.invoke(app, ["db", "current", "--database-url", empty_database_url])
    assert result.exit_code == 0 and "migrations pending" in result.output
    result = runner.invoke(app, ["db", "upgrade", "--database-url", empty_database_url])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["db", "current", "--database-url", empty_database_url])
    assert "(up to date)" in result.output


def test_operator_create_prompts_and_refuses_duplicates(database_url: str) -> None:
    args = [
        "operator",
        "create",
        "ops@example.test",
        "--role",
        "admin",
        "--database-url",
        database_url,
    ]
    result = runner.invoke(app, args, input="a-long-password\na-long-password\n")
    assert result.exit_code == 0, result.output
    assert "operator ops@example.test created with role admin" in result.output
    result = runner.invoke(app, [*args, "--password", "another-password"])
    assert result.exit_code == 1 and "already exists" in result.output
    result = runner.invoke(
        app,
        [
            "operator",
            "create",
            "x@example.test",
            "--role",
            "king",
            "--password",
            "a-long-password",
            "--database-url",
            database_url,
        ],
    )
    assert result.exit_code == 1 and "role" in result.output


def test_station_add_and_list(database_url: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("a-station-password-123\n")
    result = runner.invoke(
        app,
        [
            "station",
            "add",
            "CLI-STATION-1",
            "--password-file",
            str(secret),
            "--database-url",
            database_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "station CLI-STATION-1 added (security profile 1)" in result.output
    result = runner.invoke(app, ["station", "add", "CLI-STATION-1", "--database-url", database_url])
    assert result.exit_code == 1 and "already exists" in result.output
    result = runner.invoke(app, ["station", "add", "BAD:ID", "--database-url", database_url])
    assert result.exit_code == 1
    result = runner.invoke(app, ["station", "list", "--database-url", database_url])
    assert result.exit_code == 0 and "CLI-STATION-1" in result.output and "offline" in result.output
