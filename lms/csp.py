"""Content-Security-Policy chosen by path: strict for our pages, looser only for the admins.

Contract:
- Every response gets `settings.CONTENT_SECURITY_POLICY` (django-csp 4), whose
  script-src has no 'unsafe-inline': our templates load every script from a
  static file and pass data through `data-*` attributes.
- A response whose path starts with a prefix in `settings.CSP_PATH_UPDATES`
  gets that prefix's directives added to the policy (the same merge as
  `csp.decorators.csp_update`); only the longest matching prefix applies. This
  is how the Wagtail and Django admins get exactly what they still need and
  nothing reaches our own pages.
- A view's own `@csp_update` / `@csp_replace` / `@csp_exempt` still win: they
  are applied on top (update) or instead (replace, exempt), as django-csp does.
- No nonces: learners' lesson pages are answered from a per-session cached
  copy (courses.learner_page_cache), which would replay a stale nonce.
"""

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings


def path_update(path: str) -> dict | None:
    """The directives the longest matching prefix in CSP_PATH_UPDATES adds, if any."""
    updates = getattr(settings, "CSP_PATH_UPDATES", None) or {}
    matches = [prefix for prefix in updates if path.startswith(prefix)]
    if not matches:
        return None
    return updates[max(matches, key=len)]


def _as_list(values) -> list:
    # django-csp accepts one source as a plain string as well as a list of them.
    return [values] if isinstance(values, str) else list(values or ())


def _merge(first: dict, second: dict | None) -> dict:
    merged = {name: _as_list(values) for name, values in first.items()}
    for name, values in (second or {}).items():
        merged.setdefault(name, [])
        merged[name] += [value for value in _as_list(values) if value not in merged[name]]
    return merged


class PathPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if report_only:
            return parts
        extra = path_update(request.path_info)
        if extra:
            parts.update = _merge(extra, parts.update)
        return parts
