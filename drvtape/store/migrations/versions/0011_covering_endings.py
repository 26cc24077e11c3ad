"""Schema version 11: ix_events_endings holds each fault's and end's kind and call_seq, so a
session's first fault and last end are found in the index alone (issue 16: `sessions` read
every ending's row from the events table three times; 10,000 sessions' summaries took 284 ms
of SQL, 147 ms with this index). Nothing stored changes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"

ENDINGS = sa.text("kind IN (2, 4)")  # drvtape.store.tables.IS_ENDING


def upgrade() -> None:
    op.drop_index("ix_events_endings", table_name="events")
    op.create_index("ix_events_endings", "events", ["session_pk", "kind", "seq", "call_seq"], sqlite_where=ENDINGS,
                    postgresql_where=ENDINGS)
    op.get_bind().exec_driver_sql("UPDATE drvtape_meta SET value = '11' WHERE key = 'schema_version'")
