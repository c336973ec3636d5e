from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("studio.generation.gallery_urls")),
    path("projects/", include("studio.projects.urls")),
    path("takes/", include("studio.generation.urls")),
    path("workspace/providers/", include("studio.generation.account_urls")),
    path("workspace/budget/", include("studio.billing.budget_urls")),
    path("spend/", include("studio.billing.urls")),
    path("workspace/members/", include("studio.accounts.member_urls")),
    path("review/", include("studio.review.urls")),
    path("g/", include("studio.review.guest_urls")),
    path("webhooks/", include("studio.generation.webhook_urls")),
    path("accounts/", include("studio.accounts.urls")),
    path("media/", include("studio.media.urls")),
    path("admin/", admin.site.urls),
]
