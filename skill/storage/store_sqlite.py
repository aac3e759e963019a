"""Progress in a local SQLite file: the default on a developer machine, nothing to install.

Its own module so that the Lambda path (DynamoDB) never imports sqlite3.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from skill.storage.store import Expect, Found, ProgressStore, StoreError, found_in_json

# Tombstones past their expiry, removed whenever a new one is written (SQLite has no TTL).
_PURGE_EXPIRED_TOMBSTONES = (
    "DELETE FROM progress WHERE CASE WHEN json_valid(item) THEN"
    " json_extract(item, '$.deleted_at') IS NOT NULL AND json_extract(item, '$.expires_at') < ?"
    " ELSE 0 END"
)


class SqliteStore(ProgressStore):
    """The local default: one file, created on first use, nothing to install.

    A write checks what is stored and replaces it inside one IMMEDIATE transaction (the
    database's write lock), so the check in `Expect.allows` is as atomic as DynamoDB's
    condition, across the web server's threads and other processes alike.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        # One connection per thread: the web server answers on several threads.
        connection = getattr(self._local, "connection", None)
        if connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are begun explicitly, as IMMEDIATE.
            connection = sqlite3.connect(self.path, timeout=2, isolation_level=None)
            connection.execute(
                "CREATE TABLE IF NOT EXISTS progress "
                "(user_id TEXT PRIMARY KEY, version INTEGER NOT NULL, item TEXT NOT NULL)"
            )
            self._local.connection = connection
        return connection

    def fetch(self, user_id: str) -> Found | None:
        try:
            row = self._db().execute(
                "SELECT item FROM progress WHERE user_id = ?", (user_id,)
            ).fetchone()
        except sqlite3.Error as error:
            raise StoreError(f"sqlite read failed: {error}") from error
        return found_in_json(row[0]) if row else None

    def put(self, user_id: str, item: dict[str, Any], expect: Expect) -> bool:
        return self._replace(user_id, item, expect)

    def bury(self, user_id: str, grave: dict[str, Any]) -> None:
        self._replace(user_id, grave, None)

    def _replace(self, user_id: str, item: dict[str, Any], expect: Expect | None) -> bool:
        """Store the item if `expect` allows what is stored; without one (a tombstone) always,
        clearing expired tombstones on the way."""
        db = self._db()
        try:
            with db:
                db.execute("BEGIN IMMEDIATE")
                if expect is not None:
                    row = db.execute(
                        "SELECT item FROM progress WHERE user_id = ?", (user_id,)
                    ).fetchone()
                    if not expect.allows(found_in_json(row[0]) if row else None):
                        return False
                else:
                    db.execute(_PURGE_EXPIRED_TOMBSTONES, (time.time(),))
                db.execute(
                    "INSERT OR REPLACE INTO progress VALUES (?, ?, ?)",
                    (user_id, item.get("version", 0), json.dumps(item, separators=(",", ":"))),
                )
        except sqlite3.Error as error:
            raise StoreError(f"sqlite write failed: {error}") from error
        return True
