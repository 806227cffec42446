"""The compiler launcher's object cache: a second identical compile is a cache hit."""

import os
import shutil

import pytest

from hwssm.verify.cxx import main

pytestmark = pytest.mark.skipif(shutil.which("c++") is None, reason="needs a C++ compiler")


def test_object_cache_hits_and_keys_on_the_source(tmp_path, monkeypatch):
    src_dir, cache = tmp_path / "src", tmp_path / "cache"
    src_dir.mkdir()
    src = src_dir / "f.cpp"
    src.write_text('#include "f.h"\nint f() { return F; }\n')
    (src_dir / "f.h").write_text("#define F 1\n")
    work = tmp_path / "build"
    work.mkdir()
    monkeypatch.chdir(work)
    cmd = ["--cache", str(cache), "c++", "-MMD", "-O1", "-c", "-o", "f.o", str(src)]
    assert main(cmd) == 0
    first = (work / "f.o").read_bytes()
    entries = [p for p in cache.rglob("obj")]
    assert len(entries) == 1 and (work / "f.d").is_file()
    os.unlink(work / "f.o")
    os.unlink(work / "f.d")
    assert main(cmd) == 0  # hit: no new entry, same object and deps
    assert (work / "f.o").read_bytes() == first and (work / "f.d").is_file()
    assert len(list(cache.rglob("obj"))) == 1
    (src_dir / "f.h").write_text("#define F 2\n")  # a header change changes the key
    assert main(cmd) == 0
    assert len(list(cache.rglob("obj"))) == 2
    assert main(["--cache", str(cache), "c++", "-c", "-o", "g.o", str(src_dir / "missing.cpp")]) != 0


def test_sources_in_the_build_directory_are_not_cached(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.cpp").write_text("int g() { return 2; }\n")
    assert main(["--cache", str(tmp_path / "cache"), "c++", "-c", "-o", "g.o", "g.cpp"]) == 0
    assert (tmp_path / "g.o").is_file() and not (tmp_path / "cache").exists()


def test_profile_guided_compiles_are_not_cached(tmp_path, monkeypatch):
    # their object depends on .gcda files that the key does not cover
    src = tmp_path / "src" / "h.cpp"
    src.parent.mkdir()
    src.write_text("int h() { return 3; }\n")
    work = tmp_path / "build"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["--cache", str(tmp_path / "cache"), "c++", "-fprofile-generate", "-c", "-o", "h.o", str(src)]) == 0
    assert (work / "h.o").is_file() and not (tmp_path / "cache").exists()
