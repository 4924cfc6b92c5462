"""The client's IP address, the same way everywhere an address matters.

Contract:
- `client_ip(request)` is `REMOTE_ADDR` by default. With
  `settings.TRUSTED_PROXY_COUNT = N` (N >= 1: that many proxies of ours stand
  in front of the app, e.g. one load balancer), it is the N-th entry from the
  right of `X-Forwarded-For`: each of our proxies appends the address it
  received from, so the entries further left were written by the client and
  prove nothing. With fewer entries than N it is `REMOTE_ADDR`.
- With N = 0 (the default) a forged `X-Forwarded-For` changes nothing.
- An entry that is not an IP address is ignored in favour of `REMOTE_ADDR`,
  so a garbled header cannot make every client share one odd key.
- The answer is cached on the request.
"""

import ipaddress

from django.conf import settings


def _valid(address: str) -> str | None:
    address = address.strip()
    if address.startswith("[") and "]" in address:  # "[::1]:443"
        address = address[1 : address.index("]")]
    elif address.count(":") == 1:  # "203.0.113.9:5000"
        address = address.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def client_ip(request) -> str:
    cached = getattr(request, "_academy_client_ip", None)
    if cached is not None:
        return cached
    remote = _valid(request.META.get("REMOTE_ADDR", "") or "") or "0.0.0.0"  # noqa: S104
    address = remote
    trusted = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if trusted > 0:
        header = request.META.get("HTTP_X_FORWARDED_FOR", "")
        entries = [entry for entry in header.split(",") if entry.strip()]
        if len(entries) >= trusted:
            address = _valid(entries[-trusted]) or remote
    request._academy_client_ip = address
    return address


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
