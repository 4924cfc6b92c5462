"""Wagtail admin views that call services: a refusal shows on the form.

`ProtectedDeleteView`: deleting an object that learners' records use (a
PROTECT foreign key) shows a message and goes back to the list, never a 500.

`DomainErrorAsFormErrorMixin` wraps a generic create/edit view's
`form_valid`. When the service it calls raises `lms.errors.DomainError` (its
transaction already rolled back), the message is added to the form, on the
field named for its code in `error_fields` or on `domain_error_field` (a
non-field error when neither names a field of the form), and the form is shown
again with the error's message in the banner and its code recorded
(`produced_error_code`, which Wagtail's generic views keep for tests and logs).
"""

from django.db.models import ProtectedError
from django.shortcuts import redirect
from wagtail.admin import messages
from wagtail.admin.views import generic

from .errors import DomainError


class DomainErrorAsFormErrorMixin:
    # DomainError code -> form field; unlisted codes go to domain_error_field.
    error_fields: dict[str, str] = {}
    domain_error_field: str | None = None

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except DomainError as error:
            field = self.error_fields.get(error.code, self.domain_error_field)
            form.add_error(field if field in form.fields else None, error.message)
            self.produced_error_code = error.code
            self.produced_error_message = error.message
            return self.form_invalid(form)


class ProtectedDeleteMixin:
    """Deleting content a learner's record uses is refused with a message, not a 500."""

    protected_message = (
        "“{object}” cannot be deleted: attempts or exams use it. Retire or unpublish it instead."
    )

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ProtectedError:
            messages.error(self.request, self.protected_message.format(object=self.object))
            return redirect(self.get_success_url())


class ProtectedDeleteView(ProtectedDeleteMixin, generic.DeleteView):
    pass
