"""The memory behind a message's pointer parameters: what it is (the catalog, per driver
class) and what a recording captured of it (captured.py)."""
