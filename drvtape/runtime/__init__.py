"""Driving a driver: targets, the thread-faithful schedule, cooperative waits, the system's side."""
