import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

DEFAULT_PASSWORD = "correct-horse-battery"
# The backend that signs people in (lms.backends); force_login may name it.
MODEL_BACKEND = "lms.backends.ThrottledEmailBackend"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    legal_name = factory.LazyAttribute(lambda o: f"{o.first_name} {o.last_name}")
    # Accounts in tests have confirmed their address unless a test says otherwise.
    email_confirmed_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()
