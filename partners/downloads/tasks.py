"""Background job for partner downloads (django-q2). Idempotent: a ready bundle is kept."""

from . import services as downloads


def build_bundle(bundle_id: int) -> bool:
    """Build the certificates zip of one `CertificateBundle` (True when built now)."""
    return downloads.bundle_build(bundle_id=bundle_id)
