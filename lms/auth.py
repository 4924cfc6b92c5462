"""Answers for paused sign-ins (lms.throttle): the wording, the page and the JSON."""

import math

from django.http import JsonResponse
from django.shortcuts import render

LOCKOUT_MESSAGE = (
    "Too many failed sign-in attempts. For your security, sign-in is paused; "
    "try again in {wait} or reset your password."
)


def lockout_message(retry_after: int) -> str:
    """The message for a pause that ends in `retry_after` seconds (rounded up to minutes)."""
    minutes = max(1, math.ceil(retry_after / 60))
    wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return LOCKOUT_MESSAGE.format(wait=wait)


def lockout_response(request, retry_after: int):
    """429 with Retry-After: JSON `{"detail", "code"}` under /api/, the page elsewhere."""
    message = lockout_message(retry_after)
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message, "code": "too_many_attempts"}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(int(retry_after))
    return response
