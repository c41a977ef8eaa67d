from django.urls import path

from grids import views

app_name = "grids"

urlpatterns = [
    path("mine/", views.my_grids, name="my_grids"),
    path("areas/<str:code>/", views.area_detail, name="area_detail"),
]
