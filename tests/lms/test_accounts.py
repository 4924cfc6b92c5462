"""Account pages: sign up, sign in (by e-mail, throttled), sign out, password reset, profile."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from lms import services
from lms.auth import lockout_message
from lms.errors import Conflict
from tests.lms.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
STRONG_PASSWORD = "quiet-meadow-lantern-7"


def signup_data(**overrides):
    data = {
        "email": "grace@example.com",
        "first_name": "Grace",
        "last_name": "Hopper",
        "legal_name": "",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
    }
    data.update(overrides)
    return data


# --- sign up ----------------------------------------------------------------


def test_signup_page_renders_every_field_with_label_and_autocomplete(client):
    response = client.get(reverse("signup"))
    html = response.content.decode()
    assert response.status_code == 200
    for field, autocomplete in [
        ("email", "email"),
        ("first_name", "given-name"),
        ("last_name", "family-name"),
        ("legal_name", "name"),
        ("password1", "new-password"),
        ("password2", "new-password"),
    ]:
        assert f'<label for="id_{field}">' in html
        assert re.search(rf'<input[^>]*autocomplete="{autocomplete}"[^>]*id="id_{field}"', html)
    # Django's validators are shown as help text under the password.
    assert "at least 10 characters" in html


def test_signup_creates_an_unconfirmed_account_and_asks_to_check_email(client):
    response = client.post(reverse("signup"), signup_data(email="Grace@Example.com"), follow=True)

    assert response.redirect_chain[-1] == (reverse("signup_done"), 302)
    user = User.objects.get()
    assert user.email == "grace@example.com"
    assert user.legal_name == "Grace Hopper"  # defaults to first + last
    assert user.check_password(STRONG_PASSWORD)
    assert user.email_confirmed_at is None
    assert not response.context["user"].is_authenticated
    assert "Check your e-mail" in response.content.decode()


def test_signup_keeps_a_given_legal_name(client):
    client.post(reverse("signup"), signup_data(legal_name="  Grace   Brewster Hopper "))
    assert User.objects.get().legal_name == "Grace Brewster Hopper"


def test_signup_with_an_email_taken_in_another_case_answers_like_a_new_one(client):
    UserFactory(email="grace@example.com")

    response = client.post(reverse("signup"), signup_data(email="GRACE@example.COM"))

    assert response.status_code == 302
    assert response.url == reverse("signup_done")
    assert "already exists" not in client.get(response.url).content.decode()
    assert User.objects.count() == 1
    assert "_auth_user_id" not in client.session


def test_register_service_refuses_duplicate_with_stable_code():
    UserFactory(email="grace@example.com")
    with pytest.raises(Conflict) as caught:
        services.user_register(
            email="Grace@example.com", password="x", first_name="G", last_name="H"
        )
    assert caught.value.code == "duplicate_email"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "at least 10 characters"),
        ("password123", "too common"),
        ("83749265018", "entirely numeric"),
        ("grace.hopper@example", "too similar"),
    ],
)
def test_signup_with_a_weak_password_shows_the_validator_error(client, password, message):
    data = signup_data(email="grace.hopper@example.com", password1=password, password2=password)

    response = client.post(reverse("signup"), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not User.objects.exists()


def test_signup_with_mismatched_passwords_is_refused(client):
    response = client.post(reverse("signup"), signup_data(password2=STRONG_PASSWORD + "x"))
    assert response.status_code == 400
    assert "The two passwords do not match." in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"first_name": "x" * 151},
        {"last_name": "x" * 151},
        {"legal_name": "x" * 201},
        {"email": "not-an-email"},
        {"email": "a" * 250 + "@example.com"},
        {"email": ""},
        {"first_name": ""},
    ],
)
def test_signup_bad_input_is_a_form_error_not_a_crash(client, overrides):
    response = client.post(reverse("signup"), signup_data(**overrides))

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert 'aria-invalid="true"' in html
    assert not User.objects.exists()


def test_form_errors_are_linked_to_their_fields(client):
    response = client.post(reverse("signup"), signup_data(first_name="x" * 151))
    html = response.content.decode()
    assert 'href="#id_first_name"' in html  # the summary links to the field
    assert re.search(r'<input[^>]*aria-describedby="id_first_name-errors"', html)
    assert 'id="id_first_name-errors"' in html


def test_signed_in_person_visiting_signup_goes_home(client):
    client.force_login(UserFactory())
    assert client.get(reverse("signup")).url == "/"


# --- sign in / sign out -----------------------------------------------------


def test_login_form_labels_the_username_as_email(client):
    html = client.get(reverse("login")).content.decode()
    assert '<label for="id_username">E-mail</label>' in html
    assert 'autocomplete="current-password"' in html


def test_sign_in_by_email_in_any_case(client):
    user = UserFactory(email="ada@example.com")

    response = client.post(
        reverse("login"), {"username": "ADA@Example.com", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 302
    assert response.url == "/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_sign_in_with_a_wrong_password_shows_an_error(client):
    UserFactory(email="ada@example.com")
    response = client.post(reverse("login"), {"username": "ada@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_wrong_passwords_lock_sign_in_with_429(client):
    UserFactory(email="ada@example.com")
    url = reverse("login")

    responses = [
        client.post(url, {"username": "ada@example.com", "password": f"wrong-{i}"})
        for i in range(5)
    ]

    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    html = responses[-1].content.decode()
    assert lockout_message(15 * 60) in html.replace("&#x27;", "'")
    assert "try again in 15 minutes" in html
    assert "Sign-in paused" in html
    assert 14 * 60 < int(responses[-1]["Retry-After"]) <= 15 * 60
    # Even the right password is refused while locked out.
    locked = client.post(url, {"username": "ada@example.com", "password": DEFAULT_PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_sign_out_needs_post(client):
    client.force_login(UserFactory())

    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_header_shows_sign_out_form_and_admin_link_only_for_admins(client):
    user = UserFactory()
    client.force_login(user)
    html = client.get(reverse("profile")).content.decode()
    assert f'action="{reverse("logout")}"' in html
    assert "Admin</a>" not in html

    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    html = client.get(reverse("profile")).content.decode()
    assert "Admin</a>" in html


# --- password reset and change -----------------------------------------------


def test_password_reset_sends_a_working_link(client, django_capture_on_commit_callbacks):
    user = UserFactory(email="ada@example.com")

    with django_capture_on_commit_callbacks(execute=True):  # sent through lms.outbox
        response = client.post(reverse("password_reset"), {"email": "ADA@example.com"})
    assert response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert message.subject == "Reset your Partner Academy password"
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"] is True
    set_password_url = form_page.redirect_chain[-1][0]
    new_password = "river-stone-copper-19"
    done = client.post(
        set_password_url, {"new_password1": new_password, "new_password2": new_password}
    )
    assert done.url == reverse("password_reset_complete")

    user.refresh_from_db()
    assert user.check_password(new_password)
    signed_in = client.post(
        reverse("login"), {"username": "ada@example.com", "password": new_password}
    )
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    # The link works once.
    assert client.get(link, follow=True).context["validlink"] is False


def test_password_reset_for_unknown_email_reveals_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []


def test_password_reset_with_bad_email_is_a_form_error(client):
    response = client.post(reverse("password_reset"), {"email": "x" * 300})
    assert response.status_code == 200
    assert 'id="error-summary"' in response.content.decode()


def test_password_change(client):
    user = UserFactory()
    client.force_login(user)
    new_password = "harbour-violet-anchor-3"
    response = client.post(
        reverse("password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": new_password,
            "new_password2": new_password,
        },
    )
    assert response.url == reverse("password_change_done")
    user.refresh_from_db()
    assert user.check_password(new_password)


# --- profile ------------------------------------------------------------------


def test_anonymous_profile_redirects_to_login(client):
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={reverse('profile')}"


def test_profile_shows_the_certificate_name_preview(client):
    client.force_login(UserFactory(legal_name="Augusta Ada King"))
    html = client.get(reverse("profile")).content.decode()
    assert "Your certificates will read:" in html
    assert "Augusta Ada King" in html
    assert reverse("password_change") in html


def test_profile_edit_changes_legal_name(client):
    user = UserFactory(legal_name="Ada Lovelace")
    client.force_login(user)

    response = client.post(
        reverse("profile"),
        {"legal_name": "  Augusta  Ada King ", "first_name": "Ada", "last_name": "King"},
        follow=True,
    )

    assert response.redirect_chain[-1] == (reverse("profile"), 302)
    user.refresh_from_db()
    assert user.legal_name == "Augusta Ada King"
    assert user.last_name == "King"
    assert "Your profile was saved." in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"legal_name": "x" * 201, "first_name": "Ada", "last_name": "King"},
        {"legal_name": "   ", "first_name": "Ada", "last_name": "King"},
        {"legal_name": "Ada King", "first_name": "x" * 151, "last_name": "King"},
        {"legal_name": "Ada King", "first_name": "", "last_name": "King"},
    ],
)
def test_profile_bad_input_is_a_form_error_and_changes_nothing(client, data):
    user = UserFactory(legal_name="Ada Lovelace", first_name="Ada", last_name="Lovelace")
    client.force_login(user)

    response = client.post(reverse("profile"), data)

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert "Your certificates will read:" in html
    user.refresh_from_db()
    assert (user.legal_name, user.first_name, user.last_name) == ("Ada Lovelace", "Ada", "Lovelace")
    # The preview shows the stored name, not the rejected input.
    assert "Ada Lovelace</span>" in html


def test_account_pages_have_no_inline_scripts_or_styles(client):
    client.force_login(UserFactory())
    for name in ["profile", "password_change"]:
        html = client.get(reverse(name)).content.decode()
        assert "<style" not in html
        assert "style=" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
