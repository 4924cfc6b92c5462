"""Private storage of project submission files.

Contract:
- `private_storage()` is where submission files live: a FileSystemStorage
  under `settings.PRIVATE_ROOT / "submissions"` (read on every use, so tests
  may move it), never under MEDIA_ROOT and never with a public URL (`url()`
  raises).
- `submission_file_path` names each file at random: nothing the learner chose
  reaches the file system.
The model field and its migrations name these two by this module's path, so
they stay here; the checks of uploaded files are in exams.projects.uploads.
"""

import os
import secrets

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils import timezone

# --- storage -------------------------------------------------------------------------


class PrivateStorage(FileSystemStorage):
    """FileSystemStorage rooted at PRIVATE_ROOT/submissions, with no public URL."""

    @property
    def base_location(self):
        return os.path.join(settings.PRIVATE_ROOT, "submissions")

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Submission files have no public URL; serve them through the view.")


_private_storage = PrivateStorage()


def private_storage() -> PrivateStorage:
    """The storage of SubmissionFile.file (a callable, so migrations do not freeze a path)."""
    return _private_storage


def submission_file_path(instance, filename: str) -> str:
    """A random name: nothing the learner chose ever reaches the file system."""
    return f"{timezone.now():%Y/%m}/{secrets.token_hex(16)}"
