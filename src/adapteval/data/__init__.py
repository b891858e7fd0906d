"""Datasets: readers, task loading and splits, bundled demo data."""
