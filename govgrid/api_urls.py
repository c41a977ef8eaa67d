"""The incident and workflow endpoints, included under /api/ in the "api" namespace."""

from django.urls import path

from dispatch import api as dispatch_api
from grids import patrol_api
from incidents import api as incidents_api
from residents import api as residents_api

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
    path("patrols/start/", patrol_api.PatrolStartApi.as_view(), name="patrol_start"),
    path("patrols/today/", patrol_api.PatrolTodayApi.as_view(), name="patrols_today"),
    path("patrols/<int:pk>/points/", patrol_api.PatrolPointsApi.as_view(), name="patrol_points"),
    path("patrols/<int:pk>/stop/", patrol_api.PatrolStopApi.as_view(), name="patrol_stop"),
    path("people/", residents_api.PersonSearchApi.as_view(), name="person_search"),
    path(
        "people/<int:pk>/reveal/<str:field>/",
        residents_api.PersonRevealApi.as_view(),
        name="person_reveal",
    ),
    path("key-persons/", residents_api.KeyPersonListApi.as_view(), name="key_person_list"),
]
