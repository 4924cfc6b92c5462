"""Wagtail admin views that call services: a refusal shows on the form.

`DomainErrorAsFormErrorMixin` wraps a generic create/edit view's
`form_valid`. When the service it calls raises `lms.errors.DomainError` (its
transaction already rolled back), the message is added to the form, on the
field named for its code in `error_fields` or on `domain_error_field` (a
non-field error when neither names a field of the form), and the form is shown
again with the error's message in the banner and its code recorded
(`produced_error_code`, which Wagtail's generic views keep for tests and logs).
"""

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
