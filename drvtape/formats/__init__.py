"""The formats drvtape reads and writes: JSONL interchange, drvtap tapes, the drvhost protocol."""
