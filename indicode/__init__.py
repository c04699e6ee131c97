"""indicode: a catalogue of Guangdong performance-indicator codes and a matcher that codes free text.

The package is laid out in layers: `indicode.catalogue` (reading documents, the code catalogue and its
store) and `indicode.matcher` (encoders, indexes, ranking) are the linking core; the modules directly
under `indicode` (cli, server, bulk, review_sheet, learn) are the application built on them.
`indicode.InputError` is what every part raises for bad input.
"""
from .catalogue.records import InputError  # a plain exception class: `import indicode` stays light

__version__ = "0.2.0"

__all__ = ["InputError", "Matcher", "__version__"]


def __getattr__(name: str):
    # the API pulls in the encoder and FAISS: loaded on first use, so `import indicode` (and the
    # CLI's start-up) stays light
    if name == "Matcher":
        from .api import Matcher

        return Matcher
    raise AttributeError(f"module 'indicode' has no attribute {name!r}")
