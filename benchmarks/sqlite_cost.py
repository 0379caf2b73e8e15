"""SQLite's own CPU per T3 MeterValues: Joule's statements on a bare sqlite3 connection.

What the SQLite engine itself costs of a durable MeterValues, without Joule's Python around it:
per message one MeterValue row (its ten samples packed), two message-log rows (the frame and
its answer) and the transaction's register UPDATE, 1 000 messages per commit as in T3's
batches, a PASSIVE checkpoint every 7 commits (~1 s at T3's rate). Schema and pragmas are
Joule's (models, db.py). Prints CPU µs per message and the WAL bytes written per message.

    .venv/bin/python benchmarks/sqlite_cost.py                  # as Joule runs it
    .venv/bin/python benchmarks/sqlite_cost.py --page-size 16384
    .venv/bin/python benchmarks/sqlite_cost.py --drop ix_message_log_station_id
    strace -c -f .venv/bin/python benchmarks/sqlite_cost.py     # pwrite64 calls per message
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import time

import orjson
from sqlalchemy import create_engine

from joule.bench import payloads
from joule.storage.models import Base

MESSAGES = 1_000  # per commit
COMMITS = 70
CHECKPOINT_EVERY = 7
AT = "2026-11-29 08:00:00.000000"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page-size", type=int, default=4096)
    parser.add_argument("--drop", action="append", default=[], help="an index to drop first")
    args = parser.parse_args()
    path = os.path.join(tempfile.mkdtemp(), "cost.db")
    first = sqlite3.connect(path)
    first.execute(f"PRAGMA page_size={args.page_size:d}")
    first.execute("PRAGMA journal_mode=WAL")
    first.close()
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("synchronous=FULL", "cache_size=-32768", "wal_autocheckpoint=0"):
        db.execute(f"PRAGMA {pragma}")
    for index in args.drop:
        db.execute(f"DROP INDEX {index}")
    frame = payloads.meter_values("m1", 1, 1000).decode()
    sampled = orjson.loads(frame)[3]["meterValue"][0]["sampledValue"]
    packed = orjson.dumps({"ocpp": "1.6", "sampledValue": sampled}).decode()
    db.executemany(
        "INSERT INTO transactions (transaction_uid, station_id, status, offline, seq_nos, stale,"
        " created_at, updated_at) VALUES (?, ?, 'Active', 0, '[]', 0, ?, ?)",
        [(f"T{i}", f"C{i:05d}", AT, AT) for i in range(MESSAGES)],
    )
    order = list(range(MESSAGES))
    wal_bytes = 0
    started = time.process_time()
    for commit in range(COMMITS):
        random.shuffle(order)  # the stations' answers arrive in any order
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT INTO meter_values (station_id, evse_id, connector_id, transaction_pk,"
            " timestamp, energy_wh, power_w, sampled_values) VALUES (?, 1, 1, ?, ?, ?, 7000, ?)",
            [(f"C{i:05d}", i + 1, AT, 1000 + commit, packed) for i in order],
        )
        db.executemany(
            "INSERT INTO message_log (station_id, direction, message_type, message_id, action,"
            " frame, at) VALUES (?, ?, ?, ?, 'MeterValues', ?, ?)",
            [
                row
                for i in order
                for row in (
                    (f"C{i:05d}", "in", 2, f"m{commit}", frame, AT),
                    (f"C{i:05d}", "out", 3, f"m{commit}", f'[3,"m{commit}",{{}}]', AT),
                )
            ],
        )
        db.executemany(
            "UPDATE transactions SET last_meter_wh = ?, last_meter_at = ?, updated_at = ?"
            " WHERE id = ?",
            [(1000 + commit, AT, AT, i + 1) for i in order],
        )
        db.execute("COMMIT")
        if commit % CHECKPOINT_EVERY == CHECKPOINT_EVERY - 1:
            wal_bytes += os.path.getsize(path + "-wal")
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    cpu = time.process_time() - started
    messages = MESSAGES * COMMITS
    print(
        f"page size {args.page_size}, dropped {args.drop or 'nothing'}: "
        f"{cpu / messages * 1e6:.1f} µs CPU per MeterValues, "
        f"~{wal_bytes / messages:.0f} WAL bytes per MeterValues"
    )


if __name__ == "__main__":
    main()
