"""The incident and workflow endpoints, included under /api/ in the "api" namespace."""

from django.urls import path

from dispatch import api as dispatch_api
from incidents import api as incidents_api

urlpatterns = [
    path("categories/", incidents_api.CategoryListApi.as_view(), name="category_list"),
    path("incidents/", incidents_api.IncidentListApi.as_view(), name="incident_list"),
    path("incidents/report/", incidents_api.IncidentReportApi.as_view(), name="incident_report"),
    path("incidents/<int:pk>/", incidents_api.IncidentDetailApi.as_view(), name="incident_detail"),
    path(
        "incidents/<int:pk>/actions/<str:action>/",
        dispatch_api.IncidentTransitionApi.as_view(),
        name="incident_action",
    ),
]
