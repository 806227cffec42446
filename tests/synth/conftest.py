"""One HWSSM_CACHE for all synthesis tests of a session: starts empty, so the tools really run once."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def synth_cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("synth-cache")
