"""Factories for the track-status models (technical verifications, apps figures)."""

from datetime import timedelta

import factory
from django.utils import timezone

from partners.models import AppMilestoneFigure, TechnicalVerification

from .factories import PartnerFactory


class TechnicalVerificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TechnicalVerification

    partner = factory.SubFactory(PartnerFactory)
    track = "technology"
    status = "passed"
    decided_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=100))
    expires_at = None


class AppMilestoneFigureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AppMilestoneFigure

    partner = factory.SubFactory(PartnerFactory)
    installs = 10
    payment_volume_usd = 0
    app_review_passed = True
    recorded_on = factory.LazyFunction(timezone.localdate)
