"""The vocabulary of drvtape: messages, values, event models, tables. Imports nothing else of ours."""
