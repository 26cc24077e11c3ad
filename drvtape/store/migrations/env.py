"""Alembic environment: drvtape runs migrations on a connection it opened (Store.upgrade)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
