"""Presentation: how events, faults and sessions are shown (CLI text, timeline, reports)."""
