"""Schema version 8: thread_counts, each session's events and calls per thread (issue 16:
`sessions` counted every event of every session it listed; 10,000 sessions took seconds).

Filled from the events already stored, in one statement; from now on every insert of events
keeps it (drvtape.store.session_summary).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "thread_counts",
        sa.Column("session_pk", sa.Integer, sa.ForeignKey("sessions.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("thread", sa.BigInteger, nullable=False),
        sa.Column("events", sa.BigInteger, nullable=False),
        sa.Column("calls", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("session_pk", "thread", name="pk_thread_counts"),
    )
    bind = op.get_bind()
    bind.execute(sa.text(  # kind 0 is a call (drvtape.schema.rows.Kind.CALL)
        "INSERT INTO thread_counts (session_pk, thread, events, calls) "
        "SELECT session_pk, thread, count(*), sum(CASE WHEN kind = 0 THEN 1 ELSE 0 END) "
        "FROM events GROUP BY session_pk, thread"))
    bind.execute(sa.text("UPDATE drvtape_meta SET value = '8' WHERE key = 'schema_version'"))
