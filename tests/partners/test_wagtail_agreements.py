"""Agreement versions in the Wagtail admin (partners/applications/wagtail_hooks.py,
partners/agreements/services.py), and what the apply form asks applicants to accept."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lms.errors import DomainError
from partners.agreements import services as agreements
from partners.applications import services as applications
from partners.models import AgreementAcceptance, Partner, PartnerAgreement
from tests.lms.factories import UserFactory
from tests.partners.portal_factories import AgreementFactory, submit_application

pytestmark = pytest.mark.django_db

INDEX = "admin_partner_agreements:index"
ADD = "admin_partner_agreements:add"


def _url(name, agreement):
    return reverse(f"admin_partner_agreements:{name}", args=[agreement.pk])


def _messages(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def _at(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _form(**changes):
    data = {
        "version": "2.0",
        "title": "Partner Programme Agreement",
        "effective_from": _at(timezone.now() - timedelta(minutes=1)),
        "text": "The terms, version 2.0: be excellent to each other.",
        "url": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def seeded():
    return PartnerAgreement.objects.get(version="1.0")


@pytest.fixture
def accepted(seeded):
    """The seeded version 1.0, accepted by one applicant."""
    submit_application()
    return seeded


# --- list and inspect -----------------------------------------------------------------


def test_the_list_shows_versions_with_state_and_acceptances(staff_client, accepted):
    scheduled = AgreementFactory(version="3.0", effective_from=timezone.now() + timedelta(days=30))
    response = staff_client.get(reverse(INDEX))
    assert response.status_code == 200
    page = response.content.decode()
    assert "1.0" in page and "3.0" in page
    assert "In force" in page and "Scheduled" in page
    assert "Acceptances" in page
    # The accepted version links to its inspect view, never to edit or delete.
    assert _url("inspect", accepted) in page
    assert _url("edit", accepted) not in page
    assert _url("delete", accepted) not in page
    assert _url("edit", scheduled) in page


def test_the_list_counts_acceptances(staff_client, accepted):
    submit_application(name="Globex")
    response = staff_client.get(reverse(INDEX))
    row = next(r for r in response.context["table"].rows if r.instance.pk == accepted.pk)
    assert row.instance.acceptance_count == 2


def test_the_list_queries_do_not_grow_with_versions(staff_client):
    url = reverse(INDEX)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    AgreementFactory.create_batch(2)
    count()  # warm per-process caches
    small = count()
    AgreementFactory.create_batch(10)
    assert count() == small


def test_inspect_shows_the_text_and_why_an_accepted_version_is_kept(staff_client, accepted):
    response = staff_client.get(_url("inspect", accepted))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The terms of the Partner Programme, version 1.0." in page
    assert "Accepted by 1 partner." in page
    assert "cannot be changed or deleted" in page
    assert _url("edit", accepted) not in page
    acceptance = AgreementAcceptance.objects.get()
    assert acceptance.partner.name in page and acceptance.accepted_by.email in page


# --- publishing -------------------------------------------------------------------------


def test_the_publish_screen_starts_from_the_version_in_force(staff_client, seeded):
    response = staff_client.get(reverse(ADD))
    assert response.status_code == 200
    page = response.content.decode()
    assert seeded.text in page
    assert "Publish" in page


def test_publishing_a_version_changes_what_applicants_accept(staff_client, seeded):
    applicant = UserFactory()
    apply_client = type(staff_client)()
    apply_client.force_login(applicant)
    opened_before = apply_client.get("/partners/apply/")
    assert "version 1.0" in opened_before.content.decode()

    response = staff_client.post(reverse(ADD), _form())
    assert response.status_code == 302, response.context["form"].errors
    assert "Version 2.0 is published and in force" in _messages(response)
    assert applications.agreement_current().version == "2.0"

    page = apply_client.get("/partners/apply/").content.decode()
    assert "version 2.0" in page
    assert "be excellent to each other" in page
    assert 'value="2.0"' in page

    # The form opened before carries version 1.0: refused, and shown 2.0 to accept.
    form = {
        "name": "Globex",
        "tracks": ["technology"],
        "agreement_version": "1.0",
        "accept_agreement": "on",
        "restricted_business": "on",
    }
    refused = apply_client.post("/partners/apply/", form)
    assert refused.status_code == 409
    page = refused.content.decode()
    assert "You accepted version 1.0" in page and "the current version is 2.0" in page
    assert 'value="2.0"' in page
    assert not Partner.objects.exists()
    assert refused.context["form"]["accept_agreement"].value() is False

    accepted = apply_client.post("/partners/apply/", {**form, "agreement_version": "2.0"})
    assert accepted.status_code == 302
    acceptance = AgreementAcceptance.objects.get()
    assert (acceptance.agreement.version, acceptance.accepted_by) == ("2.0", applicant)


def test_a_scheduled_version_is_accepted_only_from_its_date(staff_client):
    starts = timezone.now() + timedelta(days=7)
    response = staff_client.post(reverse(ADD), _form(effective_from=_at(starts)))
    assert response.status_code == 302
    assert "applicants are asked to accept it from" in _messages(response)
    assert applications.agreement_current().version == "1.0"
    assert applications.agreement_current(now=starts + timedelta(minutes=1)).version == "2.0"
    with pytest.raises(DomainError) as error:
        submit_application(agreement_version="2.0")
    assert error.value.code == "agreement_outdated"


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"version": "2 0"}, "version", "letters, digits, dots"),
        ({"version": ""}, "version", "required"),
        ({"version": "1.0"}, "version", "already exists"),
        ({"text": "", "url": ""}, "text", "text or a link"),
        ({"url": "not a link"}, "url", "valid URL"),
        ({"effective_from": "2023-06-01 12:00"}, "effective_from", "version 1.0 is in force"),
        ({"effective_from": "soon"}, "effective_from", "valid date"),
        ({"title": ""}, "title", "required"),
    ],
)
def test_publish_refuses_bad_input_with_a_form_error(staff_client, changes, field, text):
    response = staff_client.post(reverse(ADD), _form(**changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert text in " ".join(errors.get(field, [])), errors
    assert list(PartnerAgreement.objects.values_list("version", flat=True)) == ["1.0"]


def test_a_link_alone_is_enough(staff_client):
    response = staff_client.post(reverse(ADD), _form(text="", url="acme.example/terms"))
    assert response.status_code == 302
    assert PartnerAgreement.objects.get(version="2.0").url == "https://acme.example/terms"


# --- accepted versions are records -------------------------------------------------------


def test_editing_an_accepted_version_is_refused(staff_client, accepted):
    before = (accepted.version, accepted.text, accepted.effective_from)
    response = staff_client.get(_url("edit", accepted))
    assert response.status_code == 302
    assert response["Location"] == _url("inspect", accepted)
    assert "cannot be changed or deleted" in _messages(response)

    response = staff_client.post(
        _url("edit", accepted), _form(version="1.0", text="Quietly rewritten.")
    )
    assert response.status_code == 302
    assert "Version 1.0 was accepted by 1 partner" in _messages(response)
    accepted.refresh_from_db()
    assert (accepted.version, accepted.text, accepted.effective_from) == before


def test_deleting_an_accepted_version_is_refused(staff_client, accepted):
    response = staff_client.get(_url("delete", accepted))
    assert response.status_code == 302
    assert "cannot be changed or deleted" in _messages(response)
    response = staff_client.post(_url("delete", accepted))
    assert response.status_code == 302
    assert "cannot be changed or deleted" in _messages(response)
    assert PartnerAgreement.objects.filter(pk=accepted.pk).exists()


def test_a_version_nobody_accepted_can_be_corrected_or_withdrawn(staff_client, seeded):
    scheduled = AgreementFactory(version="3.0", effective_from=timezone.now() + timedelta(days=30))
    assert staff_client.get(_url("edit", scheduled)).status_code == 200
    response = staff_client.post(
        _url("edit", scheduled),
        _form(version="3.0", text="Fixed typo.", effective_from=_at(scheduled.effective_from)),
    )
    assert response.status_code == 302, response.context["form"].errors
    scheduled.refresh_from_db()
    assert scheduled.text == "Fixed typo."

    assert staff_client.get(_url("delete", scheduled)).status_code == 200
    assert staff_client.post(_url("delete", scheduled)).status_code == 302
    assert not PartnerAgreement.objects.filter(pk=scheduled.pk).exists()


def test_an_acceptance_arriving_before_the_save_still_wins(seeded, monkeypatch):
    # The first check ran while nobody had accepted; the conditional update sees
    # the acceptance that arrived since and refuses.
    submit_application()
    calls = []

    def first_check_passes(**kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise DomainError("accepted", code="agreement_accepted")

    monkeypatch.setattr(agreements, "check_agreement_editable", first_check_passes)
    with pytest.raises(DomainError):
        agreements.agreement_update(
            agreement=seeded,
            version="1.0",
            title=seeded.title,
            text="Rewritten.",
            effective_from=seeded.effective_from,
        )
    seeded.refresh_from_db()
    assert seeded.text != "Rewritten."


# --- access -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["instructor", "learner"])
def test_instructors_and_learners_cannot_publish_or_change(client, instructor, seeded, who):
    client.force_login(instructor if who == "instructor" else UserFactory())
    for url in [reverse(INDEX), reverse(ADD), _url("edit", seeded), _url("inspect", seeded)]:
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert seeded.text not in response.content.decode()
    assert client.post(reverse(ADD), _form()).status_code in (302, 403)
    assert client.post(_url("edit", seeded), _form(version="1.0", text="X")).status_code in (
        302,
        403,
    )
    assert client.post(_url("delete", seeded)).status_code in (302, 403)
    seeded.refresh_from_db()
    assert seeded.text == "The terms of the Partner Programme, version 1.0."
    assert list(PartnerAgreement.objects.values_list("version", flat=True)) == ["1.0"]
