"""Tests for the exams app.

The worked cases for the pure rules live in `tests/testdata/`.
"""

import json
from pathlib import Path

TESTDATA_DIR = Path(__file__).resolve().parents[1] / "testdata"


def repo_root() -> Path:
    """The directory holding manage.py, found upwards from this file."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "manage.py").is_file():
            return parent
    raise RuntimeError("manage.py not found above the tests")


def load_testdata(name: str) -> dict:
    return json.loads((TESTDATA_DIR / name).read_text(encoding="utf-8"))
