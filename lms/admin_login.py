"""Sign-in forms of the two admin sites, refusing unconfirmed e-mail addresses.

Django admin: `admin.site.login_form` (lms.admin). Wagtail admin: the
WAGTAILADMIN_USER_LOGIN_FORM setting. Both run the check only after the
password matched (Django's confirm_login_allowed hook), like the site's form.
"""

from django.contrib.admin.forms import AdminAuthenticationForm
from wagtail.admin.forms.auth import LoginForm

from .forms import check_email_confirmed


class ConfirmedAdminAuthenticationForm(AdminAuthenticationForm):
    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        check_email_confirmed(user)


class ConfirmedWagtailLoginForm(LoginForm):
    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        check_email_confirmed(user)
