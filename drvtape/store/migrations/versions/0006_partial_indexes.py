"""Schema version 6: events' three secondary indexes become two partial ones (issue 16: the
three were 51% of a SQLite file, 126 B per event; now about 80).

One session's events, of one message or all, are a range of the primary key
(session_pk, seq); which sessions got a message is ix_events_calls_msg (calls only); faults
and ends are ix_events_endings. Nothing stored changes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

CALLS = sa.text("kind = 0")  # drvtape.store.tables.IS_CALL
ENDINGS = sa.text("kind IN (2, 4)")  # drvtape.store.tables.IS_ENDING


def upgrade() -> None:
    for name in ("ix_events_session_msg", "ix_events_msg_session", "ix_events_kind_session"):
        op.drop_index(name, table_name="events")
    op.create_index("ix_events_calls_msg", "events", ["msg", "session_pk"], sqlite_where=CALLS,
                    postgresql_where=CALLS)
    op.create_index("ix_events_endings", "events", ["session_pk", "seq"], sqlite_where=ENDINGS,
                    postgresql_where=ENDINGS)
    op.get_bind().execute(sa.text("UPDATE drvtape_meta SET value = '6' WHERE key = 'schema_version'"))
