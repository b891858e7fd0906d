"""Summaries beyond one score per task, computed from what the store already holds (cell
predictions and ``transfer`` / ``compression`` / ``cost`` analysis results); nothing
re-runs a model. One module per job:

- ``labels``: the labels a result set shows each stored cell under;
- ``transfer``: domain transfer matrices (and the mean-with-interval ``Estimate``);
- ``ensembles``: averaged-probability ensembles and pairwise error overlap;
- ``per_model``: one summary row per model and strategy.

Bootstrap intervals use the same resample indices as the score tables
(``metrics.bootstrap_indices``), so a matrix diagonal has exactly the interval of the
cell it comes from. Functions that read a whole result set take a ``Results`` object
(duck-typed; ``adapteval.results`` sits above this package).
"""
