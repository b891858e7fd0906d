"""Model kinds: Hugging Face encoders and non-pretrained baselines."""

from adapteval.models.catalog import CATALOG, lookup

__all__ = ["CATALOG", "lookup"]
