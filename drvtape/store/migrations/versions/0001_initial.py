"""Schema version 1, the first release: sessions, events, drvtape_meta."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    meta = op.create_table(
        "drvtape_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("driver", sa.String(4096), nullable=False),
        sa.Column("driver_hash", sa.String(128)),
        sa.Column("target", sa.String(4096)),
        sa.Column("machine", sa.String(256), nullable=False),
        sa.Column("os", sa.String(256), nullable=False),
        sa.Column("process", sa.String(1024), nullable=False),
        sa.Column("pid", sa.BigInteger),
        sa.Column("recorder_version", sa.String(64), nullable=False),
        sa.Column("started_us", sa.BigInteger, nullable=False),
        sa.Column("clock", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(36)),
        sa.Column("source", sa.String(64), nullable=False),
    )
    op.create_index("ix_sessions_started", "sessions", ["started_us"])
    op.create_index("ix_sessions_machine", "sessions", ["machine"])
    op.create_table(
        "events",
        sa.Column("session_pk", sa.Integer, sa.ForeignKey("sessions.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("ts_ns", sa.BigInteger, nullable=False),
        sa.Column("thread", sa.BigInteger, nullable=False),
        *(sa.Column(name, sa.BigInteger) for name in
          ("msg", "driver_id", "hdrvr", "lparam1", "lparam2", "result", "call_seq")),
        sa.Column("depth", sa.Integer),
        sa.Column("duration_ns", sa.BigInteger),
        sa.Column("payload", sa.Text),
        sa.PrimaryKeyConstraint("session_pk", "seq", name="pk_events"),
    )
    op.create_index("ix_events_session_msg", "events", ["session_pk", "msg", "seq"])
    op.create_index("ix_events_msg_session", "events", ["msg", "kind", "session_pk"])
    op.create_index("ix_events_kind_session", "events", ["kind", "session_pk"])
    op.bulk_insert(meta, [{"key": "application", "value": "drvtape"}, {"key": "schema_version", "value": "1"}])
