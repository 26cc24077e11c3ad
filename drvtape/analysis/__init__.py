"""Analyses of stored sessions: the driver's state at any seq, protocol lint, session diff."""
