"""The certificates-zip job under the dotted path it had before it moved to
partners.downloads.tasks.

django-q2 imports a job's function from the dotted path stored with the job:
a build queued before a deploy stores "partners.tasks_downloads.build_bundle".
Were that path gone, the job would fail to start and its bundle would stay
queued, shown as "being built", until the partner's records changed. New code
queues partners.downloads.tasks.build_bundle.
"""

from .downloads.tasks import build_bundle

__all__ = ["build_bundle"]
