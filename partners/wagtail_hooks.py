"""The partners app's Wagtail admin screens, one module per feature.

Wagtail loads only an app's top-level `wagtail_hooks` module, so this one
imports each feature's screens; importing them registers their menus,
permission policies and log actions:

- "Partners" (partner companies, memberships): partners.membership.wagtail_hooks
- "Track status" (track rules, technical verifications, apps figures):
  partners.status.wagtail_hooks
- "Programme" (the re-review queue, programme status history):
  partners.lifecycle.wagtail_hooks
- "Applications" (applications, agreement versions):
  partners.applications.wagtail_hooks, partners.agreements.wagtail_hooks
- "API keys" (every partner's company API keys; revoke): partners.api_keys.wagtail_hooks
"""

from .agreements import wagtail_hooks as agreements_wagtail_hooks  # noqa: F401
from .api_keys import wagtail_hooks as api_keys_wagtail_hooks  # noqa: F401
from .applications import wagtail_hooks as applications_wagtail_hooks  # noqa: F401
from .lifecycle import wagtail_hooks as lifecycle_wagtail_hooks  # noqa: F401
from .membership import wagtail_hooks as membership_wagtail_hooks  # noqa: F401
from .status import wagtail_hooks as status_wagtail_hooks  # noqa: F401
