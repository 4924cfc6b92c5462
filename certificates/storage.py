"""Private file storage for certificate PDFs, under settings.PRIVATE_ROOT.

Files here are never served by the web server or whitenoise: a permission
checked view streams them. The location is read from settings on every use,
so tests (and deployments) that change PRIVATE_ROOT need no restart.
"""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    @property
    def base_location(self):
        return settings.PRIVATE_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None

    def url(self, name):
        raise NotImplementedError("Private files have no public URL; use the download view.")


_storage = PrivateStorage()


def private_storage() -> PrivateStorage:
    return _storage
