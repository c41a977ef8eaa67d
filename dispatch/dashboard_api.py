"""The dashboard's data endpoints: incidents in a box, heat per area, counters and charts.

Every answer carries an ETag made of the incident change counter, the user and the query;
a screen that polls with If-None-Match gets 304 after two cheap queries (the user, the
counter) while nothing has changed, which is what lets hundreds of wall screens poll every
few seconds. Bad input (a malformed box, an unknown filter value, another centre's area)
is a 400 or 404 naming the problem.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from dispatch.dashboard import (
    NO_WARNING,
    WINDOWS,
    DashboardFilters,
    dashboard_allowed,
    dashboard_charts,
    dashboard_counters,
    dumps,
    incident_change_version,
    map_heat,
    map_incidents_geojson,
    map_patrols_geojson,
)
from dispatch.workflow import STATES
from govgrid.accounts.scoping import scope_for
from grids.models import AreaLevel
from grids.selectors import area_get_for_user
from incidents.models import Category, Channel, WarningLevel

COLOUR_CHOICES = [NO_WARNING, *[v for v in WarningLevel.values if v]]
# Largest box the map may ask for, in degrees (a whole province is ~5°).
MAX_BBOX_SPAN = 20.0


class BBoxField(serializers.CharField):
    default_error_messages = {
        "invalid_bbox": gettext_lazy(
            "The bounding box must be four numbers west,south,east,north in degrees (WGS-84)."
        ),
        "too_big": gettext_lazy("The bounding box is too large; zoom in."),
    }

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            west, south, east, north = (float(part) for part in text.split(","))
        except ValueError:
            self.fail("invalid_bbox")
        # NaN and infinities fail these comparisons too.
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            self.fail("invalid_bbox")
        if east - west > MAX_BBOX_SPAN or north - south > MAX_BBOX_SPAN:
            self.fail("too_big")
        return (west, south, east, north)


class FilterSerializer(serializers.Serializer):
    state = serializers.ListField(child=serializers.ChoiceField(choices=STATES), required=False)
    category = serializers.ListField(child=serializers.CharField(max_length=16), required=False)
    channel = serializers.ListField(
        child=serializers.ChoiceField(choices=Channel.choices), required=False
    )
    colour = serializers.ListField(
        child=serializers.ChoiceField(choices=COLOUR_CHOICES), required=False
    )
    window = serializers.ChoiceField(choices=list(WINDOWS), required=False, default="all")
    area = serializers.CharField(max_length=32, required=False)
    closed = serializers.BooleanField(required=False, default=False)

    def validate_category(self, codes):
        codes = sorted(set(codes))
        known = set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise serializers.ValidationError(
                _("Unknown category: %(codes)s.") % {"codes": ", ".join(unknown)}
            )
        return codes

    def filters(self, user) -> DashboardFilters:
        data = self.validated_data
        area = area_get_for_user(user=user, code=data["area"]) if data.get("area") else None
        return DashboardFilters(
            states=tuple(sorted(set(data.get("state", ())))),
            category_codes=tuple(data.get("category", ())),
            channels=tuple(sorted(set(data.get("channel", ())))),
            colours=tuple(sorted(set(data.get("colour", ())))),
            window=data["window"],
            area=area,
            include_closed=data["closed"],
        )


class MapSerializer(FilterSerializer):
    bbox = BBoxField()
    zoom = serializers.IntegerField(min_value=0, max_value=20, required=False, default=14)


class HeatSerializer(FilterSerializer):
    bbox = BBoxField()
    level = serializers.ChoiceField(choices=AreaLevel.values[1:], required=False, default=5)


FILTER_PARAMETERS = [
    OpenApiParameter("state", str, many=True, description="workflow states (default: open)"),
    OpenApiParameter("category", str, many=True, description="category codes (with children)"),
    OpenApiParameter("channel", str, many=True),
    OpenApiParameter("colour", str, many=True, enum=COLOUR_CHOICES),
    OpenApiParameter("window", str, enum=list(WINDOWS), description="reported within"),
    OpenApiParameter("area", str, description="an area code inside the user's area"),
    OpenApiParameter("closed", bool, description="include closed incidents"),
]


def shared_cache_key(digest: str) -> str:
    # The database's name keeps two deployments (or test databases) on one Redis apart.
    return f"dash:{connection.settings_dict['NAME']}:{digest}"


def shared_cache_forget() -> None:
    """Drop this database's shared dashboard answers (tests and benchmarks that roll back
    incidents, where the change counter does not move)."""
    client = cache._cache.get_client(None, write=True)
    keys = list(client.scan_iter(match=cache.make_key(shared_cache_key("*"))))
    if keys:
        client.delete(*keys)


class OnDashboard(BasePermission):
    message = gettext_lazy("The map dashboard is for centre staff and leaders.")

    def has_permission(self, request, view) -> bool:
        return dashboard_allowed(request.user)


class ConditionalApi(APIView):
    """GET answered from `build()`, or 304 when the caller's ETag is still current."""

    permission_classes = [OnDashboard]
    serializer_class: type[serializers.Serializer] = FilterSerializer
    content_type = "application/json"
    # Seconds during which the answer may also be stale for reasons other than incident
    # rows changing (the clock moving past deadlines); 0 = only the change counter.
    time_bucket = 0
    # Answers the same for everyone with the same scope are computed once and kept in the
    # cache (Redis) under the ETag's parts, so a hundred screens of one centre cost one query
    # set per change (or per time bucket), not a hundred.
    shared = False

    def build(self, *, filters: DashboardFilters, params: dict) -> str:
        raise NotImplementedError

    def audience(self, user):
        """Who the answer is for: the user, or for shared answers everyone with that scope
        (two small queries, which a 304 for a private answer does without)."""
        if not self.shared:
            return user.pk
        scope = scope_for(user)
        return (scope.sees_everything, scope.area_paths, scope.unit_ids, scope.unit_area_paths)

    def get(self, request):
        params = self.serializer_class(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.filters(request.user)
        parts = [type(self).__name__, self.audience(request.user)]
        parts += [
            incident_change_version(),
            get_language(),
            request.GET.urlencode(),
            timezone.localdate().isoformat(),
        ]
        if self.time_bucket:
            parts.append(int(timezone.now().timestamp()) // self.time_bucket)
        digest = hashlib.sha1(repr(parts).encode()).hexdigest()[:20]
        etag = f'"{digest}"'
        if etag in request.headers.get("If-None-Match", ""):
            response = HttpResponseNotModified()
        else:
            key = shared_cache_key(digest)
            body = cache.get(key) if self.shared else None
            if body is None:
                body = self.build(filters=filters, params=params.validated_data)
                if self.shared:
                    cache.set(key, body, timeout=max(self.time_bucket, 60) * 2)
            response = HttpResponse(body, content_type=self.content_type)
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        return response


@method_decorator(gzip_page, name="dispatch")
class MapIncidentsApi(ConditionalApi):
    """Incidents in the visible box as GeoJSON: points, or clusters when there are many."""

    serializer_class = MapSerializer
    content_type = "application/geo+json"

    @extend_schema(
        parameters=[
            OpenApiParameter("bbox", str, required=True, description="west,south,east,north"),
            OpenApiParameter("zoom", int),
            *FILTER_PARAMETERS,
        ],
        responses={200: dict, 304: None},
    )
    def get(self, request):
        return super().get(request)

    def build(self, *, filters, params):
        return map_incidents_geojson(
            user=self.request.user, filters=filters, bbox=params["bbox"], zoom=params["zoom"]
        )


@method_decorator(gzip_page, name="dispatch")
class MapHeatApi(ConditionalApi):
    """Matching incidents per area of one level, for the heat (choropleth) layer."""

    serializer_class = HeatSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("bbox", str, required=True, description="west,south,east,north"),
            OpenApiParameter("level", int, description="area level to count by (2–5)"),
            *FILTER_PARAMETERS,
        ],
        responses={200: dict, 304: None},
    )
    def get(self, request):
        return super().get(request)

    def build(self, *, filters, params):
        counts = map_heat(
            user=self.request.user, filters=filters, bbox=params["bbox"], level=params["level"]
        )
        return dumps({"level": params["level"], "counts": counts})


class PatrolsApi(APIView):
    """Patrols in progress in the box: the track so far and the latest position."""

    permission_classes = [OnDashboard]

    class InputSerializer(serializers.Serializer):
        bbox = BBoxField()

    @extend_schema(
        parameters=[
            OpenApiParameter("bbox", str, required=True, description="west,south,east,north")
        ],
        responses={200: dict},
    )
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        body = map_patrols_geojson(user=request.user, bbox=params.validated_data["bbox"])
        response = HttpResponse(body, content_type="application/geo+json")
        response["Cache-Control"] = "private, no-cache"
        return response


class AreaOnlySerializer(serializers.Serializer):
    area = serializers.CharField(max_length=32, required=False)

    def filters(self, user) -> DashboardFilters:
        code = self.validated_data.get("area")
        return DashboardFilters(area=area_get_for_user(user=user, code=code) if code else None)


@method_decorator(gzip_page, name="dispatch")
class DashboardStatsApi(ConditionalApi):
    """The area's counters and chart series."""

    serializer_class = AreaOnlySerializer
    time_bucket = 60
    shared = True

    @extend_schema(
        parameters=[OpenApiParameter("area", str, description="an area inside the user's area")],
        responses={200: dict, 304: None},
    )
    def get(self, request):
        return super().get(request)

    def build(self, *, filters, params):
        user = self.request.user
        return dumps(
            {
                "counters": dashboard_counters(user=user, area=filters.area),
                "charts": dashboard_charts(user=user, area=filters.area),
            }
        )
