"""Real data for the acceptability analyses: the 3-domain sentiment sentences from
../shared/data as one task whose group column is the review site."""

from __future__ import annotations

from pathlib import Path

import pytest
from acceptability_data import read_domains


@pytest.fixture(scope="session")
def domains_csv(shared, tmp_path_factory) -> Path:
    """240 sentences per domain (seeded), the domain as a ``site`` group column."""
    frame = read_domains(shared)
    picked = frame.groupby("domain", group_keys=False).sample(n=240, random_state=0)
    out = tmp_path_factory.mktemp("domains") / "domains.csv"
    picked.rename(columns={"domain": "site"}).to_csv(out, index=False)
    return out
