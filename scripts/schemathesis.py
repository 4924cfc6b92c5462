"""Fuzz the running API with Schemathesis, once per demo role and once anonymously.

    .venv/bin/python scripts/schemathesis.py          (or: make fuzz)

Starts the app with gunicorn on a free loopback port (FUZZ_PORT to choose one)
on a throwaway SQLite database with the demo data (`migrate` + `seed_demo`),
mints a personal API token for each demo role through lms.tokens.token_create,
and runs `schemathesis run` against /api/v1/openapi.json with every phase
(examples, coverage, fuzzing, stateful): anonymously, then as a learner, an
instructor, a partner admin and programme staff (in that order, since the
later roles may end memberships or revoke credentials the earlier ones see).

Checks: no server error, and every answer matches the document (status code
listed, content type, headers, body schema). Exits non-zero on any failure.

One client sends everything from 127.0.0.1, so the sign-in and rate limits
are raised through the environment for the server (LOGIN_*_LIMIT,
SIGNUP_RATE_LIMIT, PASSWORD_RESET_RATE_LIMIT, INVITATION_DAILY_LIMIT,
PARTNER_BUILD_RATE_LIMIT) and one-time passwords are off (OTP_REQUIRED=0);
nothing else differs from a development server.

Revoking a token (DELETE /auth/tokens/{token_id}) is tested in its own run
with a token of its own per role, so revoking the token the main run
authenticates with cannot turn the rest of that run into 401s.

FUZZ_ONLY=anonymous,staff limits the runs to those roles (for debugging);
FUZZ_CHECKS=all (or a comma-separated list) replaces the checks.
FUZZ_SEED and FUZZ_MAX_EXAMPLES override the fixed seed and example count
(see docs/security.md for what they cost on a 2-core machine).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")

SEED = int(os.environ.get("FUZZ_SEED", "20261206"))
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "20"))
CHECKS = os.environ.get("FUZZ_CHECKS") or ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
TOKEN_REVOKE = "DELETE /api/v1/auth/tokens/{token_id}"  # noqa: S105 (an operation, not a secret)

# Demo accounts (cms seed_demo), in run order.
ROLES = {
    "learner": "ada@northwind.example",
    "instructor": "instructor@academy.example",
    "partner_admin": "dana@northwind.example",
    "staff": "staff@academy.example",
}

LARGE = "1000000"
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "lms.settings.dev",
    "DEBUG": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "LOG_LEVEL": "WARNING",
    # One IP sends every request of the run: no throttle may stand in the way.
    "LOGIN_FAILURE_LIMIT": LARGE,
    "LOGIN_ACCOUNT_FAILURE_LIMIT": LARGE,
    "LOGIN_IP_FAILURE_LIMIT": LARGE,
    "SIGNUP_RATE_LIMIT": LARGE,
    "PASSWORD_RESET_RATE_LIMIT": LARGE,
    "INVITATION_DAILY_LIMIT": LARGE,
    "PARTNER_BUILD_RATE_LIMIT": LARGE,
    "OTP_REQUIRED": "0",
}

MINT_TOKENS = """
import json
from django.contrib.auth import get_user_model
from lms.tokens import token_create
roles = json.loads({roles!r})
out = {{}}
for role, email in roles.items():
    user = get_user_model().objects.get(email=email)
    out[role] = token_create(user=user, name="schemathesis " + role)[1]
    out[role + "_revoke"] = token_create(user=user, name="schemathesis revoke " + role)[1]
print(json.dumps(out))
"""


def free_port() -> int:
    if os.environ.get("FUZZ_PORT"):
        return int(os.environ["FUZZ_PORT"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("gunicorn exited before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"{url} did not answer within {timeout} s")


def schemathesis(schema_url: str, label: str, token: str | None, *extra: str) -> int:
    command = [
        str(VENV_BIN / "schemathesis"),
        "run",
        schema_url,
        "--phases=examples,coverage,fuzzing,stateful",
        f"--checks={CHECKS}",
        f"--seed={SEED}",
        f"--max-examples={MAX_EXAMPLES}",
        "--workers=1",
        "--request-timeout=30",
        "--suppress-health-check=all",
        "--no-color",
        *extra,
    ]
    if token:
        command.append(f"--header=Authorization: Bearer {token}")
    print(f"\n==> schemathesis: {label}", flush=True)
    started = time.monotonic()
    code = subprocess.run(command, cwd=ROOT, check=False).returncode  # noqa: S603 - ours
    print(f"==> {label}: exit {code} in {time.monotonic() - started:.0f} s", flush=True)
    return code


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="academy-fuzz-"))
    env = {
        **os.environ,
        **SERVER_ENV,
        "SQLITE_PATH": str(workdir / "db.sqlite3"),
        "MEDIA_ROOT": str(workdir / "media"),
        "PRIVATE_ROOT": str(workdir / "private"),
    }
    env.pop("DATABASE_URL", None)  # always the throwaway SQLite database
    env.pop("REDIS_URL", None)
    server = None
    setup_started = time.monotonic()
    try:
        print("==> migrate, seed_demo, tokens (throwaway SQLite database)", flush=True)
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
        minted = manage(env, "shell", "-c", MINT_TOKENS.format(roles=json.dumps(ROLES)))
        tokens = json.loads(minted.strip().splitlines()[-1])  # after any start-up output
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(  # noqa: S603 - our own gunicorn and arguments
            [
                str(VENV_BIN / "gunicorn"),
                "lms.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "60",
                "--limit-request-line",  # as make run and the web unit
                "8190",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        schema_url = f"{base}/api/v1/openapi.json"
        wait_until_up(schema_url, server)
        print(f"==> set up in {time.monotonic() - setup_started:.0f} s", flush=True)
        started = time.monotonic()
        failures = []
        runs = [("anonymous", None, ())]
        for role in ROLES:
            runs.append(
                (role, tokens[role], ("--exclude-operation-id", "lms_api_auth_token_revoke"))
            )
            runs.append(
                (
                    f"{role}: revoke token",
                    tokens[f"{role}_revoke"],
                    ("--include-operation-id", "lms_api_auth_token_revoke"),
                )
            )
        only = [name for name in os.environ.get("FUZZ_ONLY", "").split(",") if name]
        for label, token, extra in runs:
            if only and label.split(":")[0] not in only:
                continue
            if schemathesis(schema_url, label, token, *extra) != 0:
                failures.append(label)
        print(f"\n==> all runs: {time.monotonic() - started:.0f} s", flush=True)
        if failures:
            print("==> failed: " + ", ".join(failures), flush=True)
            return 1
        return 0
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
