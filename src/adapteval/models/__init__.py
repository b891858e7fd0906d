"""Models: the catalog of short names, the model kinds that resolve and load them
(``adapteval.models.kinds``: hf, onnx, majority, tfidf) and their encoders."""

from adapteval.models.catalog import CATALOG, lookup

__all__ = ["CATALOG", "lookup"]
