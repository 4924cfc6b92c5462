from django.conf import settings


def site(request):
    return {"SITE_NAME": "Partner Academy", "SITE_URL": settings.SITE_URL}
