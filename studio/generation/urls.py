from django.urls import path

from studio.generation import views

app_name = "takes"
urlpatterns = [
    path("<uuid:pk>/", views.take, name="detail"),
    path("<uuid:pk>/card/", views.card_hx, name="card_hx"),
    path("<uuid:pk>/status/", views.status_hx, name="status_hx"),
    path("<uuid:pk>/cancel/", views.cancel, name="cancel"),
    path("<uuid:pk>/download/", views.download, name="download"),
]
