"""drvtape: record, query and replay the messages a Windows installable driver receives."""

__version__ = "0.1.0"
