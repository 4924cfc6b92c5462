"""The JSON API at /api/v1/, composed: every app's router on lms.api's `api`.

This is the composition root of the API (the top layer may import every
app); lms.api holds the ground floor (errors, authentication, `/me`, tokens)
and knows no app above it. cms.urls mounts `api.urls`.
"""

from certificates.api import router as certificates_router
from courses.api import router as courses_router
from exams.accommodations.api import router as accommodations_router
from exams.api import router as exams_router
from exams.projects.api import router as projects_router
from lms.api import api
from partners.api_keys.api import router as partner_api_keys_router
from partners.directory.api import router as partner_directory_router
from partners.downloads.api import router as partner_downloads_router
from partners.roster.api import router as partner_members_router
from partners.status.api import router as partner_status_router
from partners.webhooks.api import router as partner_webhooks_router

for router in (
    courses_router,
    exams_router,
    accommodations_router,
    projects_router,
    certificates_router,
    partner_members_router,
    partner_status_router,
    partner_downloads_router,
    partner_api_keys_router,
    partner_directory_router,
    partner_webhooks_router,
):
    api.add_router("/", router)

__all__ = ["api"]
