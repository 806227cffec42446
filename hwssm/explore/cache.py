"""Content-addressed records of a sweep, as JSON files under ``cache_dir()/sweep/<kind>/``.

A record's key is the SHA-256 of everything its value depends on (model digest, plan,
lanes, device, tool versions, generator version, ...), so a rerun finds every record an
earlier run finished, whether that run completed or was interrupted. Records are written
atomically (temporary file + rename): a reader sees a whole record or none.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from pathlib import Path

from ..config import cache_dir
from ..io import write_json

__all__ = ["RecordKind", "RecordCache", "content_key", "SWEEP_VERSION"]

#: Bump when a record's meaning changes, so that old records are no longer found.
SWEEP_VERSION = 1


class RecordKind(enum.Enum):
    """What a record holds; each kind has its own directory."""

    #: Calibrated float ranges of a checkpoint (shared by every plan's PTQ).
    CALIBRATION = "calibration"
    #: Golden-engine accuracy of one QModel on a test subset.
    ACCURACY = "accuracy"
    #: RTL + synthesis of one QModel at P lanes on one device.
    HARDWARE = "hardware"
    #: Analytic estimate of one QModel as one design point on one device (``hwssm search``).
    ESTIMATE = "estimate"


def content_key(kind: RecordKind, fields: dict) -> str:
    """Hex SHA-256 (32 digits) of ``fields`` (JSON, sorted keys) with the kind and SWEEP_VERSION."""
    doc = {"kind": kind.value, "sweep_version": SWEEP_VERSION, **fields}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


@dataclasses.dataclass(frozen=True)
class RecordCache:
    """JSON records by (kind, key) under ``root`` (default ``cache_dir()/sweep``)."""

    root: Path

    @classmethod
    def default(cls) -> "RecordCache":
        return cls(cache_dir() / "sweep")

    def path(self, kind: RecordKind, key: str) -> Path:
        return self.root / kind.value / f"{key}.json"

    def get(self, kind: RecordKind, key: str) -> dict | None:
        """The record, or None when absent or unreadable (an unreadable one is recomputed)."""
        path = self.path(kind, key)
        try:
            d = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(d, dict) or d.get("key") != key or d.get("sweep_version") != SWEEP_VERSION:
            return None
        return d.get("value")

    def put(self, kind: RecordKind, key: str, value: dict, inputs: dict | None = None) -> None:
        """Store ``value`` atomically; ``inputs`` (what the key hashes) is kept for people reading the file."""
        write_json(self.path(kind, key), {"key": key, "kind": kind.value, "sweep_version": SWEEP_VERSION,
                                          "inputs": inputs or {}, "value": value})

    def count(self, kind: RecordKind) -> int:
        """Number of records of ``kind`` stored."""
        d = self.root / kind.value
        return sum(1 for _ in d.glob("*.json")) if d.is_dir() else 0
