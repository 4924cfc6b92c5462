"""Real parallel requests on PostgreSQL: the same e-mail signed up from many tabs at once."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

THREADS = 8


@pytest.mark.django_db(transaction=True)
def test_parallel_sign_ups_with_one_email_create_exactly_one_account():
    start_together = threading.Barrier(THREADS)
    statuses: list[int] = []
    record = threading.Lock()

    def sign_up(n):
        client = Client(REMOTE_ADDR=f"127.0.0.{n + 1}")
        try:
            start_together.wait(timeout=10)
            response = client.post(
                "/accounts/signup/",
                {
                    # the same address in different letter cases
                    "email": "Grace@Example.com" if n % 2 else "grace@example.COM",
                    "first_name": "Grace",
                    "last_name": f"Hopper {n}",
                    "legal_name": "",
                    "password1": "a-long-passphrase-42",
                    "password2": "a-long-passphrase-42",
                },
            )
            status = response.status_code
        finally:
            connection.close()
        with record:
            statuses.append(status)

    threads = [threading.Thread(target=sign_up, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Every sign-up gets the same "check your e-mail" answer (nothing tells who
    # won), and exactly one account exists.
    assert statuses == [302] * THREADS
    assert get_user_model().objects.filter(email__iexact="grace@example.com").count() == 1
