"""The events table's partial indexes are partial on both engines, whether the database was
made new (tables.py, which gives PostgreSQL its predicates as the table is created) or
upgraded through every migration (schema 11 made ix_events_endings cover a session's first
fault and last end)."""

import sqlalchemy as sa

from drvtape.store import Store
from drvtape.store.engines import database_url
from drvtape.store.migrations import upgrade
from tests.test_sql_views import as_schema_3

PARTIAL = {"ix_events_calls_msg", "ix_events_endings", "ix_events_opened", "ix_events_closing"}


def event_indexes(db: str) -> dict[str, tuple]:
    """{name: (columns, predicate)} of the events table's secondary indexes as the engine has them."""
    engine = sa.create_engine(database_url(db))
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            found = {name: (definition.split(" USING btree ")[1].split(" WHERE ")[0],
                            definition.partition(" WHERE ")[2])
                     for name, definition in conn.exec_driver_sql(
                         "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events'")}
        else:
            found = {name: (tuple(column for _, _, column in conn.exec_driver_sql(f"PRAGMA index_info({name})")),
                            bool(partial))
                     for _, name, _, _, partial in conn.exec_driver_sql("PRAGMA index_list(events)")}
    engine.dispose()
    return {name: shape for name, shape in found.items() if name.startswith("ix_")}


def test_a_new_and_an_upgraded_database_have_the_same_partial_indexes(db):
    Store.open(db, create=True).close()
    made = event_indexes(db)
    assert set(made) == PARTIAL and all(predicate for _, predicate in made.values()), made
    assert made["ix_events_endings"][0] in ("(session_pk, kind, seq, call_seq)", ("session_pk", "kind", "seq", "call_seq"))
    as_schema_3(db)
    upgrade(db)
    assert event_indexes(db) == made
