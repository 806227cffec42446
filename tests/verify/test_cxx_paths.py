"""The Verilator compiler launcher and cache paths: OBJCACHE spells no cache path (so no shell or
make quoting can break on it); a cache path make cannot build in is refused in one line; an
unusable cache makes the launcher compile without caching."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hwssm.errors import HwssmError
from hwssm.verify import cxx


@pytest.mark.parametrize("bad", ["a b", "a\tb", "a;b", "a#b", "a%b", "a:b", "a\"b", "a'b", "a`b", "a|b", "a&b",
                                 "a\nb", "a(b", "a*b", "a=b", "a\\b"])
def test_unusable_cache_paths_are_refused_in_one_line(bad):
    with pytest.raises(HwssmError) as info:
        cxx.check_build_path(Path("/tmp") / bad)
    assert "\n" not in str(info.value) and "HWSSM_CACHE" in str(info.value)


@pytest.mark.parametrize("good", ["/tmp/cache", "/home/u/.cache/hwssm", "/tmp/a-b_c.d+e@f,g~h", "/tmp/$HOME", "/tmp/é"])
def test_usable_cache_paths_pass(good):
    cxx.check_build_path(Path(good))


def test_objcache_spells_no_cache_path(monkeypatch, tmp_path):
    monkeypatch.setenv("HWSSM_CACHE", str(tmp_path / "we;ird $dir\tname"))
    value = cxx.objcache_launcher()
    assert value is not None and value.endswith("-m hwssm.verify.cxx --config-cache")
    assert "weird" not in value and "we;ird" not in value


@pytest.mark.parametrize("cache", ["file", "we;ird $dir\tname"])
def test_config_cache_compiles_with_any_cache_path(tmp_path, cache):
    """The launcher finds the cache from HWSSM_CACHE itself; a cache that is a file means no caching."""
    if cache == "file":
        (tmp_path / "file").write_text("")
    src = tmp_path / "src" / "x.c"
    src.parent.mkdir()
    src.write_text("int f(void) { return 3; }\n")
    build = tmp_path / "build"
    build.mkdir()
    env = dict(os.environ, HWSSM_CACHE=str(tmp_path / cache),
               PYTHONPATH=str(Path(__file__).resolve().parents[2]) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "hwssm.verify.cxx", "--config-cache", "cc", "-c", str(src), "-o", "x.o"]
    for _ in range(2):  # a miss, then (with a usable cache) a hit
        (build / "x.o").unlink(missing_ok=True)
        subprocess.run(cmd, cwd=build, env=env, check=True, timeout=120)
        assert (build / "x.o").is_file()
    stored = list((tmp_path / cache / "sim" / "objcache").rglob("obj")) if cache != "file" else []
    assert len(stored) == (0 if cache == "file" else 1)
