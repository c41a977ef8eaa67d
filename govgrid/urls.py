from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from dispatch import dashboard_api
from dispatch import views as dispatch_views
from govgrid import api_urls, views
from grids import api as grids_api

api_patterns = [
    path("areas/<str:code>/outlines/", grids_api.AreaOutlinesApi.as_view(), name="area_outlines"),
    path("grids/at/", grids_api.GridAtPointApi.as_view(), name="grid_at_point"),
    path("me/area-bounds/", grids_api.MyAreaBoundsApi.as_view(), name="my_area_bounds"),
    path(
        "tiles/areas/<int:z>/<int:x>/<int:y>.geojson",
        grids_api.AreaTileApi.as_view(),
        name="area_tile",
    ),
    path("dashboard/incidents/", dashboard_api.MapIncidentsApi.as_view(), name="map_incidents"),
    path("dashboard/heat/", dashboard_api.MapHeatApi.as_view(), name="map_heat"),
    path("dashboard/patrols/", dashboard_api.PatrolsApi.as_view(), name="map_patrols"),
    path("dashboard/stats/", dashboard_api.DashboardStatsApi.as_view(), name="dashboard_stats"),
    *api_urls.urlpatterns,
]

urlpatterns = [
    path("", views.home, name="home"),
    path("areas/", views.areas, name="areas"),
    path("healthz", views.healthz, name="healthz"),
    # The reporter's rating page from the SMS link (回访); public, the token is the key.
    path("r/<str:token>/", dispatch_views.rate_public, name="rate_public"),
    path("i18n/setlang/", views.language_set, name="language_set"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True,
            extra_context={"limit": settings.AXES_FAILURE_LIMIT},
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("govgrid.accounts.urls")),
    path("grids/", include("grids.urls")),
    path("incidents/", include("incidents.urls")),
    path("residents/", include("residents.urls")),
    path("dispatch/", include("dispatch.urls")),
    path("notifications/", include("govgrid.notifications.urls")),
    path("api/", include((api_patterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
    path("admin/", admin.site.urls),
]
# Uploaded files are never served as public /media/ URLs: incident photos go through
# dispatch.views.attachment_file, which checks the viewer's scope.
