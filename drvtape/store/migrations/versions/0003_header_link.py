"""Schema version 3: sessions.header_link, the link of each session's header (drvtape.store.chain),
and drvtape_meta's sessions_stored, the number of sessions ever stored (a removed one shows).

Existing headers get their links here, computed from what is stored now.
"""

import uuid

import sqlalchemy as sa
from alembic import op

from drvtape.store import chain

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("sessions", sa.Column("header_link", sa.LargeBinary(16)))
    conn = op.get_bind()
    update = sa.text("UPDATE sessions SET header_link = :link WHERE pk = :pk")
    headers = conn.execute(sa.text(f"SELECT pk, {', '.join(chain.HEADER_FIELDS)} FROM sessions")).mappings().all()
    params = [{"link": chain.header_link(uuid.UUID(h["uuid"]), h), "pk": h["pk"]} for h in headers]
    if params:
        conn.execute(update, params)
    if headers:
        conn.execute(sa.text("INSERT INTO drvtape_meta (key, value) VALUES (:key, :value)"),
                     {"key": "sessions_stored", "value": str(len(headers))})
    conn.execute(sa.text("UPDATE drvtape_meta SET value = '3' WHERE key = 'schema_version'"))
