"""Patrol endpoints for the phone (start, positions, stop) and today's tracks as GeoJSON."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from grids import patrols
from grids.models import Patrol


class PositionSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    lon = serializers.FloatField(min_value=-180, max_value=180)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    accuracy = serializers.FloatField(required=False, allow_null=True, min_value=0)


def _positions(data) -> list[patrols.Position]:
    return [
        patrols.Position(at=p["at"], lon=p["lon"], lat=p["lat"], accuracy_m=p.get("accuracy"))
        for p in data
    ]


class PatrolOutputSerializer(serializers.ModelSerializer):
    grid = serializers.CharField(source="grid.name")
    is_running = serializers.BooleanField()

    class Meta:
        model = Patrol
        fields = [
            "id",
            "grid",
            "started_at",
            "ended_at",
            "is_running",
            "distance_m",
            "duration_s",
            "point_count",
            "coverage",
        ]


class PatrolStartApi(APIView):
    @extend_schema(request=None, responses={201: PatrolOutputSerializer})
    def post(self, request):
        patrol = patrols.patrol_start(worker=request.user)
        return Response(PatrolOutputSerializer(patrol).data, status=201)


class PatrolPointsApi(APIView):
    class InputSerializer(serializers.Serializer):
        points = PositionSerializer(many=True, allow_empty=True)

        class Meta:
            ref_name = "PatrolPointsInput"

    @extend_schema(request=InputSerializer, responses=PatrolOutputSerializer)
    def post(self, request, pk: int):
        patrol = get_object_or_404(Patrol, pk=pk, worker=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        patrol = patrols.patrol_points_add(
            patrol=patrol, worker=request.user, positions=_positions(data.validated_data["points"])
        )
        return Response(PatrolOutputSerializer(patrol).data)


class PatrolStopApi(APIView):
    class InputSerializer(serializers.Serializer):
        at = serializers.DateTimeField(required=False)
        points = PositionSerializer(many=True, required=False)

        class Meta:
            ref_name = "PatrolStopInput"

    @extend_schema(request=InputSerializer, responses=PatrolOutputSerializer)
    def post(self, request, pk: int):
        patrol = get_object_or_404(Patrol, pk=pk, worker=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        patrol = patrols.patrol_stop(
            patrol=patrol,
            worker=request.user,
            at=data.validated_data.get("at"),
            positions=_positions(data.validated_data.get("points", [])),
        )
        return Response(PatrolOutputSerializer(patrol).data)


class PatrolTodayApi(APIView):
    """Today's patrols in the user's scope as GeoJSON lines (one query)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        features = []
        for p in patrols.patrols_today_for_user(user=request.user):
            if p.track is None:
                continue
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": p.track.coords},
                    "properties": {
                        "id": p.pk,
                        "worker": str(p.worker),
                        "grid": p.grid.name,
                        "running": p.ended_at is None,
                        "distance_m": round(p.distance_m),
                        "duration_s": p.duration_s,
                        "reports": p.report_count,
                        "coverage": round(p.coverage, 3),
                    },
                }
            )
        return Response({"type": "FeatureCollection", "features": features})
