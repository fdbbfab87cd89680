"""The open-vs-closed LLM decision kit: all the logic behind the notebooks, the app and the CLI."""

import sys

# Altair, nbformat, papermill and Voila import jsonschema, whose optional IRI checker (rfc3987_syntax, installed
# by jupyter-events' jsonschema[format-nongpl]) compiles ~35 Lark grammars on import: about 2 CPU-seconds in
# every kernel, papermill worker and Voila server that imports it (python-jsonschema/jsonschema#1428,
# opendatahub-io/notebooks#3532). No schema the kit or Jupyter validates uses the iri formats, so that one
# backend is left out of every process that imports the kit before them (kit.app, kit.lesson, kit.runs,
# kit.voila_app); jsonschema skips a backend it cannot import. tests/test_layers.py checks it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

__version__ = "0.1.0"
