from django.urls import path

from studio.accounts import member_views

app_name = "members"
urlpatterns = [
    path("", member_views.index, name="index"),
    path("<int:pk>/role/", member_views.change_role, name="change_role"),
    path("<int:pk>/remove/", member_views.remove, name="remove"),
    path("<int:pk>/transfer/", member_views.transfer, name="transfer"),
    path(
        "invitations/<uuid:pk>/revoke/",
        member_views.revoke_invitation,
        name="revoke_invitation",
    ),
]
