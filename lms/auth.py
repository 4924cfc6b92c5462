"""Responses for throttled sign-ins (django-axes lockout callable)."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

LOCKOUT_MESSAGE = (
    "Too many failed sign-in attempts. For your security, sign-in is paused; "
    "try again in {minutes} minutes or reset your password."
)


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return LOCKOUT_MESSAGE.format(minutes=minutes)


def lockout_response(request, *args, **kwargs):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message(), "code": "too_many_attempts"}, status=429)
    return render(
        request, "registration/locked_out.html", {"message": lockout_message()}, status=429
    )
