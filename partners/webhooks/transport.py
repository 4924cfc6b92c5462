"""Sending one webhook request, safe against server-side request forgery.

`post(url, body, headers, ...)` -> `Outcome`. Every call:

1. checks the URL (http or https; https only when `require_https`; no user
   name or password in it);
2. resolves the host ONCE (`socket.getaddrinfo`) and checks EVERY address it
   got: an address that is not public (loopback, private, shared, link-local,
   multicast, reserved, unspecified, or an IPv4-mapped IPv6 form of one)
   refuses the whole request. `allow_private` lets loopback and private
   ranges through (development and tests); link-local (cloud metadata at
   169.254.169.254), multicast, reserved and unspecified are refused always;
3. connects to the address that passed the check, never to the name, so a
   second lookup (DNS rebinding) cannot change where the request goes. For
   https the name still goes in the TLS SNI and the certificate is checked
   against it: urllib3's documented "custom SNI hostname" use
   (`HTTPSConnectionPool(<ip>, server_hostname=<name>)` plus the `Host`
   header, `assert_same_host=False`);
4. never follows a redirect and never retries; waits at most `timeout`
   seconds for the connection and the answer's status line and headers, reads
   at most 4 KiB of the body.

A 2xx within the timeout is `delivered`; anything else is an outcome with
`error` set (the status code when there was one).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

MAX_BODY_READ = 4096
USER_AGENT = "PartnerAcademy-Webhooks/1"

Resolver = Callable[..., list]


class Refused(Exception):
    """The URL or an address it resolves to may not be called."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    latency_ms: int | None

    @property
    def delivered(self) -> bool:
        return not self.error and self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # the name as given (IDNA-encoded), or an IP literal
    port: int
    path: str  # path and query, at least "/"

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse(url: str, *, require_https: bool) -> Target:
    """The parts of a webhook URL, or Refused (`invalid_url`, `https_required`)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("That is not a valid URL.", "invalid_url") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise Refused("A webhook URL must be an http:// or https:// address.", "invalid_url")
    if parts.username is not None or parts.password is not None:
        raise Refused("A webhook URL may not contain a user name or password.", "invalid_url")
    if require_https and scheme != "https":
        raise Refused("Webhook URLs must use https.", "https_required")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise Refused("The host name of that URL is not valid.", "invalid_url") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def address_refusal(address: str, *, allow_private: bool) -> str | None:
    """Why `address` may not be called (None when it may)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return address_refusal(str(mapped), allow_private=allow_private)
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return None if allow_private else "loopback"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return None if allow_private and ip.is_private else "private"
    return None


def resolve_checked(
    target: Target, *, allow_private: bool, resolver: Resolver = socket.getaddrinfo
) -> str:
    """One lookup; every address checked; the first address, to connect to."""
    try:
        infos = resolver(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Refused(f"{target.host} could not be resolved.", "host_not_found") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise Refused(f"{target.host} could not be resolved.", "host_not_found")
    for address in addresses:
        why = address_refusal(address, allow_private=allow_private)
        if why is not None:
            raise Refused(
                f"{target.host} resolves to a {why} address ({address}); "
                "webhooks go to public addresses only.",
                "address_refused",
            )
    return addresses[0]


def _pool(target: Target, address: str, timeout: float, ssl_context: ssl.SSLContext | None):
    common = {"port": target.port, "maxsize": 1, "retries": False, "block": False}
    if target.scheme == "https":
        # The system's trusted CAs, certificate and host name checked (against the name).
        context = ssl_context or ssl.create_default_context()
        return urllib3.HTTPSConnectionPool(
            address,
            server_hostname=target.host,
            ssl_context=context,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            **common,
        )
    return urllib3.HTTPConnectionPool(
        address, timeout=urllib3.Timeout(connect=timeout, read=timeout), **common
    )


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    allow_private: bool,
    require_https: bool,
    resolver: Resolver = socket.getaddrinfo,
    ssl_context: ssl.SSLContext | None = None,
) -> Outcome:
    try:
        target = parse(url, require_https=require_https)
        address = resolve_checked(target, allow_private=allow_private, resolver=resolver)
    except Refused as refused:
        return Outcome(None, f"refused: {refused}", None)
    started = time.monotonic()
    pool = _pool(target, address, timeout, ssl_context)
    request_headers = {
        **headers,
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers=request_headers,
            redirect=False,
            retries=False,
            assert_same_host=False,
            preload_content=False,
        )
        latency_ms = int((time.monotonic() - started) * 1000)
        try:
            response.read(MAX_BODY_READ)
        except Urllib3Error:
            pass  # the status counts; an answer body is not read further
        finally:
            response.release_conn()
    except Urllib3Error as exc:
        latency_ms = int((time.monotonic() - started) * 1000)
        return Outcome(None, _describe(exc, timeout), latency_ms)
    finally:
        pool.close()
    status = response.status
    if latency_ms > timeout * 1000:
        return Outcome(
            status, f"answered after {latency_ms} ms (more than {timeout:g} s)", latency_ms
        )
    if 300 <= status < 400:
        location = (response.headers.get("Location") or "")[:200]
        return Outcome(status, f"redirect to {location!r} not followed", latency_ms)
    if not 200 <= status < 300:
        return Outcome(status, f"answered {status}", latency_ms)
    return Outcome(status, "", latency_ms)


def _describe(exc: Exception, timeout: float) -> str:
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, urllib3.exceptions.SSLError):
        return f"TLS error: {exc}"[:300]
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "connection failed"
    return f"{type(exc).__name__}: {exc}"[:300]
