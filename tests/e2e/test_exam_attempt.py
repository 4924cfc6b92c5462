"""Browser test of a whole exam attempt: answer, reload, offline queue, submit, timeout."""

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def _signed_in(page, live_server, user):
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def _wait_for(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if _quietly(predicate):
            return True
        time.sleep(0.1)
    return predicate()


def _quietly(predicate) -> bool:
    """The predicate, False while SQLite says the table is locked. On SQLite
    the live server's thread and this test share one connection to the
    in-memory database (pytest-django hands it over), so a read here can meet
    the server's write statement still in progress, which SQLite refuses at
    once. A deployment never shares a connection between threads."""
    from django.db import OperationalError

    try:
        return predicate()
    except OperationalError as error:
        if "locked" not in str(error):
            raise
        return False


def test_whole_attempt_with_reload_and_offline(page, live_server, home_page, shoot, check_a11y):
    from exams.models import Attempt, AttemptItem
    from tests.exams.factories import make_exam
    from tests.lms.factories import UserFactory

    learner = UserFactory()
    exam = make_exam(topics=2, draw=2, pool=3, multiple_every=0, title="Developer exam")
    _signed_in(page, live_server, learner)

    page.goto(live_server.url + "/exams/")
    expect(page.get_by_role("heading", name="Developer exam")).to_be_visible()
    check_a11y(page)
    page.get_by_role("button", name="Start attempt").click()
    expect(page.get_by_role("timer")).to_be_visible()
    attempt = Attempt.objects.get(person=learner, exam=exam)
    items = list(AttemptItem.objects.filter(attempt=attempt).order_by("position"))
    check_a11y(page)
    shoot(page, "exam-01-attempt")

    # Answer question 1: saved at once, no button.
    first = page.locator(f'fieldset[data-item="{items[0].pk}"]')
    first.locator("input").nth(1).check()
    assert _wait_for(
        lambda: (
            AttemptItem.objects.get(pk=items[0].pk).selected_choice_ids
            == [items[0].choice_order[1]]
        )
    )
    expect(page.locator("#exam-save-status")).to_contain_text("All answers saved")
    first.get_by_role("button", name="Flag for review").click()
    assert _wait_for(lambda: AttemptItem.objects.get(pk=items[0].pk).flagged)

    # Reload: the same form, the answer kept.
    order_before = page.locator("fieldset[data-item]").evaluate_all(
        "els => els.map(e => e.dataset.item)"
    )
    page.reload()
    assert (
        page.locator("fieldset[data-item]").evaluate_all("els => els.map(e => e.dataset.item)")
        == order_before
    )
    expect(page.locator(f'fieldset[data-item="{items[0].pk}"] input').nth(1)).to_be_checked()
    expect(page.locator(f'[data-nav="{items[0].pk}"]')).to_have_class(
        "exam-nav__link is-answered is-flagged"
    )

    # Offline: the banner shows, the answer waits on the device.
    page.context.set_offline(True)
    second = page.locator(f'fieldset[data-item="{items[1].pk}"]')
    second.locator("input").nth(2).check()
    expect(page.locator("#exam-offline")).to_be_visible()
    shoot(page, "exam-02-offline")
    time.sleep(0.5)
    assert AttemptItem.objects.get(pk=items[1].pk).selected_choice_ids == []

    # Back online: the queued answer is sent.
    page.context.set_offline(False)
    assert _wait_for(
        lambda: (
            AttemptItem.objects.get(pk=items[1].pk).selected_choice_ids
            == [items[1].choice_order[2]]
        )
    )
    expect(page.locator("#exam-offline")).to_be_hidden()

    # Submit with confirmation; the result shows score and topics, no answers.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Submit answers").click()
    expect(page.get_by_role("heading", name="Your score")).to_be_visible()
    expect(page.get_by_role("heading", name="By topic")).to_be_visible()
    attempt.refresh_from_db()
    assert attempt.status == "submitted"
    check_a11y(page)
    shoot(page, "exam-03-result")


def test_timed_out_attempt_is_finalised_with_saved_answers(page, live_server, home_page):
    from exams import services
    from exams.models import Attempt
    from tests.exams.factories import make_exam
    from tests.lms.factories import UserFactory

    learner = UserFactory()
    exam = make_exam(topics=1, draw=2, pool=2, multiple_every=0)
    attempt, _ = services.attempt_start(
        person=learner, exam=exam, now=timezone.now() - timedelta(minutes=exam.time_limit_minutes)
    )
    item = attempt.items.select_related("question_version").first()
    right = item.question_version.choices.get(is_correct=True).pk
    services.attempt_answer(
        person=learner,
        attempt_id=attempt.pk,
        item_id=item.pk,
        choice_ids=[right],
        now=attempt.deadline - timedelta(seconds=5),
    )
    Attempt.objects.filter(pk=attempt.pk).update(
        deadline=timezone.now() - timedelta(seconds=exam.grace_seconds + 1)
    )
    _signed_in(page, live_server, learner)
    page.goto(live_server.url + f"/exams/attempts/{attempt.pk}/")
    expect(page.get_by_text("Time ran out")).to_be_visible()
    expect(page.get_by_text("1 of 2 questions right")).to_be_visible()


def test_a_busy_server_is_asked_again_until_the_answer_is_saved(page, live_server, home_page):
    from exams.models import Attempt, AttemptItem
    from tests.exams.factories import make_exam
    from tests.lms.factories import UserFactory

    learner = UserFactory()
    exam = make_exam(topics=1, draw=2, pool=2, multiple_every=0)
    _signed_in(page, live_server, learner)
    page.goto(live_server.url + "/exams/")
    page.get_by_role("button", name="Start attempt").click()
    expect(page.get_by_role("timer")).to_be_visible()
    attempt = Attempt.objects.get(person=learner, exam=exam)
    item = AttemptItem.objects.filter(attempt=attempt).order_by("position").first()

    # The server is full for the first three tries (503 + Retry-After, as
    # lms.overload answers), then 429 once; after that the save goes through.
    refusals = [503, 503, 503, 429]
    seen = []

    def busy(route):
        if route.request.method != "PUT":
            route.continue_()
        elif len(seen) < len(refusals):
            status = refusals[len(seen)]
            seen.append(status)
            code = "overloaded" if status == 503 else "too_many_requests"
            route.fulfill(
                status=status,
                headers={"Retry-After": "1", "Content-Type": "application/json"},
                body=json.dumps({"detail": "The service is busy right now.", "code": code}),
            )
        else:
            seen.append(200)
            route.continue_()

    page.route(f"**/api/v1/attempts/{attempt.pk}/items/*", busy)
    page.locator(f'fieldset[data-item="{item.pk}"] input').nth(1).check()

    status = page.locator("#exam-save-status")
    expect(status).to_contain_text("The server is busy: 1 change waiting to be saved")
    expect(page.locator(f'fieldset[data-item="{item.pk}"] input').nth(1)).to_be_checked()
    assert AttemptItem.objects.get(pk=item.pk).selected_choice_ids == []
    expect(status).to_contain_text("All answers saved", timeout=20_000)
    assert seen == [503, 503, 503, 429, 200]
    assert _wait_for(
        lambda: AttemptItem.objects.get(pk=item.pk).selected_choice_ids == [item.choice_order[1]]
    )
    # Nothing was thrown away, and no error told the learner to choose again.
    expect(page.locator("#exam-error")).to_be_hidden()


def test_a_rest_break_hides_the_questions_and_keeps_queued_answers(
    page, live_server, home_page, shoot, check_a11y
):
    from exams import services
    from exams.accommodations import services as accommodation_services
    from exams.models import Attempt, AttemptItem
    from tests.exams.factories import make_exam
    from tests.lms.factories import UserFactory

    learner = UserFactory()
    exam = make_exam(
        topics=1, draw=2, pool=2, multiple_every=0, title="Timed exam", time_limit_minutes=60
    )
    accommodation_services.accommodation_grant(
        by=None,
        person=learner,
        exam=exam,
        extra_time_percent=50,
        breaks=2,
        break_minutes=10,
        ends_on=timezone.localdate() + timedelta(days=1),
        reason="Rest breaks",
    )
    _signed_in(page, live_server, learner)
    page.goto(live_server.url + "/exams/")
    expect(page.get_by_text("You have 50 % extra time: 90 minutes instead of 60")).to_be_visible()
    check_a11y(page)
    page.get_by_role("button", name="Start attempt").click()
    expect(page.get_by_role("button", name="Take a break")).to_be_visible()
    attempt = Attempt.objects.get(person=learner, exam=exam)
    items = list(AttemptItem.objects.filter(attempt=attempt).order_by("position"))

    # An answer given offline waits on the device...
    page.context.set_offline(True)
    page.locator(f'fieldset[data-item="{items[0].pk}"]').locator("input").nth(1).check()
    expect(page.locator("#exam-offline")).to_be_visible()
    # ...while a break starts from another tab.
    services.attempt_break_start(person=learner, attempt_id=attempt.pk)
    page.context.set_offline(False)
    # The save is refused (attempt_paused): the page shows the break, no question.
    expect(page.get_by_role("heading", name="On a break")).to_be_visible()
    expect(page.locator("fieldset[data-item]")).to_have_count(0)
    check_a11y(page)
    shoot(page, "exam-04-break")
    assert AttemptItem.objects.get(pk=items[0].pk).selected_choice_ids == []

    # Resuming shows the questions again and sends the queued answer.
    page.get_by_role("button", name="Resume now").click()
    expect(page.locator("fieldset[data-item]")).to_have_count(2)
    assert _wait_for(
        lambda: (
            AttemptItem.objects.get(pk=items[0].pk).selected_choice_ids
            == [items[0].choice_order[1]]
        )
    )
    expect(page.get_by_text("1 rest break of up to 10 minutes left")).to_be_visible()

    # Taking a break from the page itself.
    page.get_by_role("button", name="Take a break").click()
    expect(page.get_by_role("heading", name="On a break")).to_be_visible()
    attempt.refresh_from_db()
    assert attempt.on_break and attempt.breaks_taken == 2


def test_the_renewal_exam_card_says_who_may_take_it(
    page, live_server, home_page, shoot, check_a11y
):
    from tests.certificates.factories import CertificationFactory, CredentialFactory
    from tests.exams.factories import make_exam
    from tests.lms.factories import UserFactory

    certification = CertificationFactory(slug="developer", name="Developer")
    certification.renewal_exam = make_exam(title="Developer renewal exam")
    certification.save()
    holder, newcomer = UserFactory(), UserFactory()
    CredentialFactory(
        person=holder,
        certification=certification,
        expires_at=timezone.now() + timedelta(days=30),
    )
    renewal = page.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name="Developer renewal exam")
    )

    _signed_in(page, live_server, newcomer)
    page.goto(live_server.url + "/exams/")
    expect(renewal.get_by_text("For renewal")).to_be_visible()
    expect(renewal.get_by_text("open to holders in the last 180 days")).to_be_visible()
    expect(renewal.get_by_role("button", name="Start attempt")).to_have_count(0)
    check_a11y(page)
    shoot(page, "newcomer")

    page.context.clear_cookies()
    _signed_in(page, live_server, holder)
    page.goto(live_server.url + "/exams/")
    expect(renewal.get_by_role("button", name="Start attempt")).to_be_visible()
    expect(renewal.get_by_text("For renewal")).to_have_count(0)
