from django.urls import path

from studio.billing import views

app_name = "budget"
urlpatterns = [path("", views.limits, name="index")]
