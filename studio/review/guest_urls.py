from django.urls import path

from studio.review import guest_views

app_name = "guest"
urlpatterns = [
    path("<str:token>/", guest_views.index, name="index"),
    path("<str:token>/take/<uuid:pk>/", guest_views.take, name="take"),
    path("<str:token>/take/<uuid:pk>/comment/", guest_views.comment, name="comment"),
    path("<str:token>/take/<uuid:pk>/download/", guest_views.download, name="download"),
]
