"""`drvtape schema`: the JSON Schema of the JSONL interchange format."""


from drvtape.cli.app import app, examples
from drvtape.cli.options import OUTPUT
from drvtape.cli.output import json_text, write_output
from drvtape.formats import jsonl


@app.command(epilog=examples("drvtape schema", "drvtape schema -o drvtape-jsonl.schema.json"))
def schema(output: str = OUTPUT) -> None:
    """Print the JSON Schema of one line of the JSONL interchange format (import/export)."""
    write_output(output, [json_text(jsonl.json_schema()) + "\n"])
