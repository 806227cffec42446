"""Versions that a hardware record depends on: the EDA tools and the RTL generator."""

from __future__ import annotations

from ..synth.versions import tool_versions

__all__ = ["tool_versions", "generator_version"]


def generator_version() -> str:
    """Version of the RTL generator (:func:`hwssm.hw.emit.generator_version`: the hwssm version
    and a hash of the ``hwssm/hw`` sources)."""
    from ..hw.emit import generator_version as gv

    return gv()
