"""Read endpoints for the area tree (the same selectors as the pages)."""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from grids.models import AreaLevel
from grids.selectors import area_get_for_user, area_outlines_for_user, grid_at_point_for_user
from grids.tiles import area_tile_for_user, tile_exists


class AreaOutlinesApi(APIView):
    """Outlines of the areas of one level below an area, simplified for the map's zoom."""

    class InputSerializer(serializers.Serializer):
        level = serializers.ChoiceField(choices=AreaLevel.values, required=False)
        zoom = serializers.IntegerField(min_value=0, max_value=22, required=False, default=14)

    @extend_schema(
        parameters=[
            OpenApiParameter("level", int, description="level to draw (default: children)"),
            OpenApiParameter("zoom", int, description="map zoom, for simplification"),
        ],
        responses={200: dict},
    )
    def get(self, request, code: str):
        area = area_get_for_user(user=request.user, code=code)
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        level = params.validated_data.get("level") or area.level + 1
        if level < area.level:
            raise serializers.ValidationError(
                {"level": _("Pick the area's own level or one below it.")}
            )
        body = area_outlines_for_user(
            user=request.user, parent=area, level=level, zoom=params.validated_data["zoom"]
        )
        return HttpResponse(body, content_type="application/geo+json")


class GridAtPointApi(APIView):
    """Which grid (that the user may see) contains a WGS-84 point."""

    class InputSerializer(serializers.Serializer):
        lon = serializers.FloatField(min_value=-180, max_value=180)
        lat = serializers.FloatField(min_value=-90, max_value=90)

    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField()
        name = serializers.CharField()
        community = serializers.CharField(source="parent.name")

    @extend_schema(
        parameters=[OpenApiParameter("lon", float), OpenApiParameter("lat", float)],
        responses={200: OutputSerializer},
    )
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        grid = grid_at_point_for_user(user=request.user, **params.validated_data)
        if grid is None:
            return Response(
                {"detail": _("This point is not inside any grid you may work in.")}, status=404
            )
        return Response(self.OutputSerializer(grid).data)


class MyAreaBoundsApi(APIView):
    """The bounding box of the areas the user may see (to open maps on them)."""

    @extend_schema(responses={200: dict})
    def get(self, request):
        from django.contrib.gis.db.models import Extent

        from grids.selectors import area_list_for_user

        extent = area_list_for_user(user=request.user).grids().aggregate(e=Extent("boundary"))["e"]
        return Response({"bbox": list(extent) if extent else None})


class AreaTileApi(APIView):
    """Outlines of the areas in one web-mercator tile, as GeoJSON, simplified for its zoom.

    The level drawn follows the zoom (districts → streets → communities → grids) and never
    rises above the user's own area; only areas the user may see are in it.
    """

    @extend_schema(responses={200: dict, 404: None})
    def get(self, request, z: int, x: int, y: int):
        if not tile_exists(z, x, y):
            return Response({"detail": _("There is no such map tile.")}, status=404)
        response = HttpResponse(
            area_tile_for_user(user=request.user, z=z, x=x, y=y),
            content_type="application/geo+json",
        )
        # Boundaries change rarely (an import); the browser may reuse a tile for a while.
        response["Cache-Control"] = "private, max-age=300"
        return response
