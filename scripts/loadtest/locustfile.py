"""The simulated people of `make loadtest` (locust, headless).

Read from the environment (the harness sets them): LOADTEST_PLAN (the seed's
plan.json), LOADTEST_DIR (where each process logs acknowledged saves, submit
results and its error counts), LOADTEST_CANDIDATES / _LEARNERS / _ADMINS (how
many of each), LOADTEST_THINK (seconds between answers, "min,max").

- Candidates sign in for a token, start the exam and answer every question
  with think time. Like the exam page's offline queue, an answer that was not
  acknowledged with 200 (an error, a 503 or 429, a dropped connection) stays
  queued and is sent again; some candidates also go offline for a few answers
  (queued, sent later) or lose a reply (the save reached the server, the
  answer did not reach them: resent). A few change an earlier answer. Then they
  submit (again on failure: submitting is idempotent) and wait for their
  certificate, downloading the PDF once it is there.
- Learners sign in on the site (session, CSRF) and read lessons, list their
  credentials and download their certificate.
- Partner admins sign in for a token and read their partner's status and members.

Every save is logged when sent and again when answered 200 (attempt, item,
choices, sequence number) so the harness can check the database afterwards;
nothing here decides whether the run passed.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter
from pathlib import Path

import urllib3
from locust import HttpUser, between, events, task

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

PLAN = json.loads(Path(os.environ["LOADTEST_PLAN"]).read_text())
OUT = Path(os.environ["LOADTEST_DIR"])
THINK = tuple(float(x) for x in os.environ.get("LOADTEST_THINK", "0.5,2").split(","))
PASS_SHARE = float(os.environ.get("LOADTEST_PASS_SHARE", "0.5"))
OFFLINE_SHARE = float(os.environ.get("LOADTEST_OFFLINE_SHARE", "0.1"))
LOST_REPLY_SHARE = float(os.environ.get("LOADTEST_LOST_REPLY_SHARE", "0.03"))
CORRECT = set(PLAN["correct_choice_ids"])

_lock = threading.Lock()
_pools = {
    "candidate": list(PLAN["candidates"]),
    "learner": list(PLAN["learners"]),
    "admin": list(PLAN["admins"]),
}
_errors: Counter = Counter()
_acks = open(OUT / f"acks-{os.getpid()}.jsonl", "a", buffering=1)  # noqa: SIM115
_sends = open(OUT / f"sends-{os.getpid()}.jsonl", "a", buffering=1)  # noqa: SIM115
_sequence = 0
_submits = open(OUT / f"submits-{os.getpid()}.jsonl", "a", buffering=1)  # noqa: SIM115


def _take(role: str):
    with _lock:
        return _pools[role].pop() if _pools[role] else None


def _kind(status: int | None, error: BaseException | None) -> str:
    if error is not None:
        text = repr(error)
        for marker in ("ConnectionResetError", "RemoteDisconnected", "Connection aborted"):
            if marker in text:
                return "connection reset"
        if "ConnectionRefused" in text or "Connection refused" in text:
            return "connection refused"
        if "Timeout" in text or "timed out" in text:
            return "timeout"
        return type(error).__name__
    return str(status)


@events.quitting.add_listener
def _write_errors(environment, **kwargs):
    (OUT / f"errors-{os.getpid()}.json").write_text(json.dumps(dict(_errors)))


class Person(HttpUser):
    abstract = True

    def call(self, method: str, path: str, name: str, ok=(200,), **kwargs):
        """(status or None, parsed JSON or None); failures counted by kind."""
        kwargs.setdefault("verify", False)
        kwargs.setdefault("timeout", 120)  # beyond nginx's own timeouts
        status = None
        body = None
        try:
            with self.client.request(
                method, path, name=name, catch_response=True, **kwargs
            ) as response:
                status = response.status_code or None
                error = response.error if status is None else None
                if status in ok:
                    response.success()
                    if "json" in response.headers.get("Content-Type", ""):
                        body = response.json()
                else:
                    kind = _kind(status, error)
                    response.failure(kind)
                    with _lock:
                        _errors[f"{name}: {kind}"] += 1
                    if status in (429, 503):
                        retry_after = response.headers.get("Retry-After", "1")
                        time.sleep(min(float(retry_after or 1), 5.0))
                return status, body, response
        except Exception as error:  # the request never produced a response object
            kind = _kind(None, error)
            with _lock:
                _errors[f"{name}: {kind}"] += 1
            return None, None, None

    def token_sign_in(self, email: str) -> None:
        for _ in range(20):
            status, body, _ = self.call(
                "POST",
                "/api/v1/auth/token",
                "POST /api/v1/auth/token",
                ok=(200, 201),
                json={"email": email, "password": PLAN["password"]},
            )
            if status in (200, 201):
                self.client.headers["Authorization"] = f"Bearer {body['token']}"
                return
            time.sleep(1)
        raise RuntimeError(f"could not sign in {email}")


class Candidate(Person):
    wait_time = between(5, 10)
    fixed_count = int(os.environ.get("LOADTEST_CANDIDATES", "0"))

    def on_start(self):
        self.email = _take("candidate")
        self.done = self.email is None
        self.attempt = None
        self.result = None
        self.pdf_fetched = False
        if not self.done:
            self.token_sign_in(self.email)
            self.sit_exam()

    def save(self, item_id: int, choice: int, *, drop_reply: bool = False) -> bool:
        global _sequence
        with _lock:
            _sequence += 1
            seq = _sequence
        # Logged before it is sent: a save the client never heard back about
        # (a reply lost, the run ending) may still have been stored.
        _sends.write(
            json.dumps({"attempt": self.attempt, "item": item_id, "choices": [choice], "seq": seq})
            + "\n"
        )
        status, body, _ = self.call(
            "PUT",
            f"/api/v1/attempts/{self.attempt}/items/{item_id}",
            "PUT /api/v1/attempts/{id}/items/{item_id}",
            json={"choice_ids": [choice]},
        )
        if status != 200 or drop_reply:
            return False
        _acks.write(
            json.dumps(
                {
                    "attempt": self.attempt,
                    "item": item_id,
                    "choices": body["selected_choice_ids"],
                    "seq": seq,
                }
            )
            + "\n"
        )
        return True

    def flush(self, queue: dict[int, int], *, until_empty: bool) -> None:
        for _ in range(60 if until_empty else 1):
            for item_id, choice in list(queue.items()):
                if self.save(item_id, choice):
                    queue.pop(item_id, None)
                else:
                    break
            if not queue or not until_empty:
                return
            time.sleep(1)

    def sit_exam(self) -> None:
        attempt = None
        for _ in range(30):
            status, attempt, _ = self.call(
                "POST",
                f"/api/v1/exams/{PLAN['exam']}/attempts",
                "POST /api/v1/exams/{slug}/attempts",
                ok=(200, 201),
            )
            if attempt is not None:
                break
            time.sleep(1)
        if attempt is None:
            return
        self.attempt = attempt["id"]
        passing = random.random() < PASS_SHARE  # noqa: S311 - simulation, not security
        offline_for = 0
        queue: dict[int, int] = {}
        answered: list[tuple[int, list[int]]] = []
        for item in attempt["items"]:
            time.sleep(random.uniform(*THINK))  # noqa: S311
            ids = [choice["id"] for choice in item["choices"]]
            right = [i for i in ids if i in CORRECT]
            wrong = [i for i in ids if i not in CORRECT]
            pick = right[0] if (passing or random.random() < 0.3) else random.choice(wrong)  # noqa: S311
            answered.append((item["id"], ids))
            if offline_for == 0 and random.random() < OFFLINE_SHARE:  # noqa: S311
                offline_for = random.randint(1, 3)  # noqa: S311
            if offline_for > 0:
                offline_for -= 1
                queue[item["id"]] = pick  # the page keeps it until it is back online
                continue
            queue[item["id"]] = pick
            drop = random.random() < LOST_REPLY_SHARE  # noqa: S311
            if self.save(item["id"], pick, drop_reply=drop):
                queue.pop(item["id"], None)
            self.flush(queue, until_empty=False)
            if random.random() < 0.05 and len(answered) > 1:  # noqa: S311 - a change of mind
                earlier_id, earlier_ids = random.choice(answered[:-1])  # noqa: S311
                queue[earlier_id] = random.choice(earlier_ids)  # noqa: S311
        self.flush(queue, until_empty=True)
        for _ in range(30):
            status, result, _ = self.call(
                "POST",
                f"/api/v1/attempts/{self.attempt}/submit",
                "POST /api/v1/attempts/{id}/submit",
            )
            if status == 200:
                self.result = result
                _submits.write(
                    json.dumps(
                        {
                            "attempt": self.attempt,
                            "email": self.email,
                            "score_percent": result["score_percent"],
                            "correct": result["correct"],
                            "passed": result["passed"],
                            "unsent": len(queue),
                        }
                    )
                    + "\n"
                )
                return
            time.sleep(1)

    @task
    def wait_for_certificate(self):
        if self.done or self.attempt is None:
            return
        self.call("GET", f"/api/v1/attempts/{self.attempt}", "GET /api/v1/attempts/{id}")
        if not (self.result and self.result["passed"]) or self.pdf_fetched:
            return
        status, credentials, _ = self.call(
            "GET", "/api/v1/me/credentials", "GET /api/v1/me/credentials"
        )
        for credential in credentials or []:
            if credential.get("pdf_url"):
                status, _, _ = self.call(
                    "GET", credential["pdf_url"], "GET /api/v1/credentials/{id}/pdf"
                )
                self.pdf_fetched = status == 200


class Learner(Person):
    wait_time = between(4, 12)
    fixed_count = int(os.environ.get("LOADTEST_LEARNERS", "0"))

    def on_start(self):
        self.me = _take("learner")
        if self.me is None:
            return
        for _ in range(20):
            status, _, response = self.call("GET", "/accounts/login/", "GET /accounts/login/")
            token = self.client.cookies.get("csrftoken")
            if status == 200 and token:
                status, _, _ = self.call(
                    "POST",
                    "/accounts/login/",
                    "POST /accounts/login/",
                    ok=(302,),
                    allow_redirects=False,
                    data={
                        "username": self.me["email"],
                        "password": PLAN["password"],
                        "csrfmiddlewaretoken": token,
                    },
                    headers={"Referer": self.host + "/accounts/login/"},
                )
                if status == 302:
                    return
            time.sleep(1)
        self.me = None

    @task(6)
    def read_lesson(self):
        if self.me:
            self.call("GET", random.choice(PLAN["lessons"]), "GET lesson page")  # noqa: S311

    @task(1)
    def list_credentials(self):
        if self.me:
            self.call("GET", "/api/v1/me/credentials", "GET /api/v1/me/credentials")

    @task(1)
    def download_certificate(self):
        if self.me:
            self.call(
                "GET",
                f"/api/v1/credentials/{self.me['credential']}/pdf",
                "GET /api/v1/credentials/{id}/pdf",
            )


class PartnerAdmin(Person):
    wait_time = between(5, 15)
    fixed_count = int(os.environ.get("LOADTEST_ADMINS", "0"))

    def on_start(self):
        self.email = _take("admin")
        if self.email:
            self.token_sign_in(self.email)

    @task(2)
    def status(self):
        if self.email:
            self.call(
                "GET",
                f"/api/v1/partners/{PLAN['partner']}/status",
                "GET /api/v1/partners/{slug}/status",
            )

    @task(1)
    def members(self):
        if self.email:
            self.call(
                "GET",
                f"/api/v1/partners/{PLAN['partner']}/members",
                "GET /api/v1/partners/{slug}/members",
            )
