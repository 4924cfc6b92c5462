"""The deploy site file (deploy/nginx-academy.conf) on loopback ports.

`render_site` changes only what differs between a machine and this harness:
the listening addresses, the upstream's node addresses, the certificate and
the static files' folder; every other directive is the shipped file's.
`main_config` wraps it in the smallest nginx.conf that keeps nginx's files in
a temporary folder, with an access log naming the upstream that answered.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

LOG_FORMAT = (
    'log_format academy \'$msec $status "$upstream_addr" "$upstream_status" '
    '$request_method $request_time "$uri"\';'
)


def render_site(
    text: str,
    *,
    https_port: int,
    http_port: int,
    upstreams: list[str],
    static_root: Path,
    certificate: Path,
    key: Path,
) -> str:
    def upstream_block(match: re.Match) -> str:
        body = match.group(2)
        options = re.search(r"server\s+\S+\s+([^;]*);", body).group(1)
        kept = [line for line in body.splitlines() if not line.strip().startswith("server ")]
        indent = "    "
        servers = [f"{indent}server {address} {options};" for address in upstreams]
        return match.group(1) + "\n".join(servers + kept) + match.group(3)

    text = re.sub(r"(upstream\s+\w+\s*\{\n)(.*?)(\n\})", upstream_block, text, flags=re.S)
    text = re.sub(r"listen\s+443\s+ssl", f"listen 127.0.0.1:{https_port} ssl", text)
    text = re.sub(r"listen\s+80\s*;", f"listen 127.0.0.1:{http_port};", text)
    text = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {certificate};", text)
    text = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", text)
    text = re.sub(r"alias\s+\S+/staticfiles/;", f"alias {static_root}/;", text)
    text = text.replace("server_name academy.example.com;", "server_name 127.0.0.1 localhost;")
    return text


def main_config(prefix: Path, site: Path, *, workers: int = 1) -> str:
    return f"""\
worker_processes {workers};
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    {LOG_FORMAT}
    access_log {prefix}/access.log academy;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {site};
}}
"""


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (cryptography, already a dependency)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def write_config(
    prefix: Path,
    site_text: str,
    *,
    https_port: int,
    http_port: int,
    upstreams: list[str],
    static_root: Path,
) -> Path:
    """Everything nginx needs under `prefix`; returns the nginx.conf path."""
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    certificate, key = self_signed_certificate(prefix)
    site = prefix / "site.conf"
    site.write_text(
        render_site(
            site_text,
            https_port=https_port,
            http_port=http_port,
            upstreams=upstreams,
            static_root=static_root,
            certificate=certificate,
            key=key,
        )
    )
    conf = prefix / "nginx.conf"
    conf.write_text(main_config(prefix, site))
    return conf


def parse_access_log(path: Path) -> list[dict]:
    rows = []
    pattern = re.compile(r'^(\S+) (\d+) "([^"]*)" "([^"]*)" (\S+) (\S+) "([^"]*)"$')
    for line in path.read_text().splitlines():
        match = pattern.match(line)
        if not match:
            continue
        rows.append(
            {
                "t": float(match.group(1)),
                "status": int(match.group(2)),
                "upstream": match.group(3),
                "upstream_status": match.group(4),
                "method": match.group(5),
                "seconds": float(match.group(6)),
                "uri": match.group(7),
            }
        )
    return rows
