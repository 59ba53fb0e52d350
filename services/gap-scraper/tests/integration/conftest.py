"""Integration fixtures: the AWS parts in moto (in process), the SGS stand-in on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gap_scraper_aws import Aws, Sgs, moto_aws, sgs_standin


@pytest.fixture
def aws() -> Iterator[Aws]:
    with moto_aws() as world:
        yield world


@pytest.fixture
def sgs() -> Iterator[Sgs]:
    with sgs_standin() as standin:
        yield standin
