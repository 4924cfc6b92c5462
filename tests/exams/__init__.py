"""Tests for the exams app.

The worked cases live in `../shared/testdata/` (next to the repository) and are
copied into `tests/testdata/` so the suite runs in any checkout; a test keeps
the copies byte-identical to the shared originals whenever those are present.
"""

import json
from pathlib import Path

TESTDATA_DIR = Path(__file__).resolve().parents[1] / "testdata"
TESTDATA_FILES = ("retakes.json", "item-analysis.json", "partner-rollup.json")


def repo_root() -> Path:
    """The directory holding manage.py, found upwards from this file."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "manage.py").is_file():
            return parent
    raise RuntimeError("manage.py not found above the tests")


SHARED_TESTDATA_DIR = repo_root().parent / "shared" / "testdata"


def load_testdata(name: str) -> dict:
    return json.loads((TESTDATA_DIR / name).read_text(encoding="utf-8"))
