from django.urls import path

from studio.review import views

app_name = "review"
urlpatterns = [
    path("takes/<uuid:pk>/comment/", views.comment, name="comment"),
    path("takes/<uuid:pk>/decide/", views.decide, name="decide"),
    path("takes/<uuid:pk>/select/", views.select, name="select"),
    path("takes/<uuid:pk>/share/", views.share_take, name="share_take"),
    path("projects/<uuid:pk>/share/", views.share_project, name="share_project"),
    path("comments/<uuid:pk>/resolve/", views.resolve, name="resolve"),
    path("links/<uuid:pk>/revoke/", views.revoke_link, name="revoke_link"),
    path("compare/", views.compare, name="compare"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.mark_all_read, name="mark_all_read"),
    path("inbox/email/", views.digest_settings, name="digest_settings"),
    path("inbox/<uuid:pk>/", views.open_notification, name="open_notification"),
]
