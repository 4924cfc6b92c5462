import pytest


@pytest.fixture(autouse=True)
def _no_attempt_forms_from_other_tests():
    """Each test starts with no attempt forms held (ids repeat across tests on
    SQLite, where a rolled-back test gives its ids back)."""
    from exams import attempt_forms

    attempt_forms.forget()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_ROOT = tmp_path / "private"


@pytest.fixture(scope="session")
def delete_output_dir():
    """pytest-playwright empties test-results/ at session start; keep e2e screenshots."""
