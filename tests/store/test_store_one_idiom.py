"""One store idiom: `Store` runs functions, the functions hold the SQL, and the SQL lives in `bot/store`.

These fail when a query grows back as a `Store` method, or when SQL (or sqlite-utils) turns up
in a job, a service or a front door: a change to a table is then again in one package.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import bot
from bot.store import Store

BOT = Path(bot.__file__).resolve().parent

# Statements a string would hold if it were SQL (case-insensitive; help texts never start so).
_SQL = re.compile(
    r"\b(SELECT\b.+\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
    r"CREATE\s+(TEMP\s+)?(TABLE|INDEX|TRIGGER)|PRAGMA)\b",
    re.I | re.S,
)


def test_the_store_object_only_opens_closes_reads_writes_and_pings() -> None:
    public = {name for name in vars(Store) if not name.startswith("_")}
    assert public == {"open", "close", "read", "write", "ping", "backend"}


def _outside_the_store() -> list[Path]:
    return [p for p in BOT.rglob("*.py") if (BOT / "store") not in p.parents]


def test_no_sql_and_no_sqlite_utils_outside_bot_store() -> None:
    found = []
    for path in _outside_the_store():
        text = path.read_text(encoding="utf-8")
        if "sqlite_utils" not in text and not _SQL.search(text):
            continue  # nothing to look at closely
        tree = ast.parse(text)
        for node in ast.walk(tree):
            where = f"{path.relative_to(BOT.parent)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.search(node.value):
                found.append(f"{where}: SQL text {node.value[:60]!r}")
            elif isinstance(node, ast.Import | ast.ImportFrom):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(m.split(".")[0] == "sqlite_utils" for m in modules):
                    found.append(f"{where}: imports sqlite_utils")
    assert found == [], "SQL belongs in a bot/store module, called through store.read/write:\n" + "\n".join(found)


def test_the_guard_would_see_sql() -> None:
    assert _SQL.search("SELECT summary_json FROM digests WHERE day = ?")
    assert _SQL.search("UPDATE alerts SET x = 1")
    assert not _SQL.search("update the alert settings, then delete the thread")
