"""The open-vs-closed LLM decision kit: all the logic behind the notebooks, the app and the CLI."""

__version__ = "0.1.0"
