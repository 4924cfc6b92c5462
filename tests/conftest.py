import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_ROOT = tmp_path / "private"


@pytest.fixture(scope="session")
def delete_output_dir():
    """pytest-playwright empties test-results/ at session start; keep e2e screenshots."""
