"""The project's URLs plus the baseline: a bare Django view returning {}."""

from django.http import JsonResponse
from django.urls import path

from lms.urls import urlpatterns as project_urlpatterns


def empty(request):
    return JsonResponse({})


urlpatterns = [path("bench/empty", empty), *project_urlpatterns]
