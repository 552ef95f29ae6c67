"""Stock reservations for checkout (internal, service credential only)."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.auth import ServicePrincipal
from clipcart_shared.serializers import CharField, IntegerField
from clipcart_shared.views import InternalApiView
from core.serializers import LinesInputSerializer
from inventory.models import Reservation
from inventory.services import reservation_commit, reservation_create, reservation_release

MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 24 * 3600


class ReservationLineSerializer(serializers.Serializer):
    variant_id = serializers.UUIDField()
    quantity = serializers.IntegerField()


class ReservationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    key = serializers.CharField()
    status = serializers.ChoiceField(Reservation.Status.choices)
    expires_at = serializers.DateTimeField()
    lines = ReservationLineSerializer(many=True)


def _render(reservation: Reservation) -> dict[str, object]:
    lines = sorted(reservation.lines.values_list("variant_id", "quantity"))
    return {
        "id": str(reservation.id),
        "key": reservation.key,
        "status": reservation.status,
        "expires_at": reservation.expires_at,
        "lines": [{"variant_id": str(v), "quantity": q} for v, q in lines],
    }


def _reservation_or_404(reservation_id: uuid.UUID) -> None:
    if not Reservation.objects.filter(id=reservation_id).exists():
        raise NotFound("No such reservation.")


class ReservationCreateApi(InternalApiView):
    class ReservationInputSerializer(LinesInputSerializer):
        key = CharField(max_length=200, help_text="Caller's key; one reservation per key.")
        ttl_seconds = IntegerField(
            min_value=MIN_TTL_SECONDS, max_value=MAX_TTL_SECONDS, default=15 * 60
        )

    @extend_schema(
        operation_id="reservations_create",
        request=ReservationInputSerializer,
        responses={201: ReservationSerializer, 200: ReservationSerializer},
        description="Hold stock for every line, all or nothing. The same key again answers "
        "200 with the same reservation and changes nothing; 409 `out_of_stock` names each "
        "short line.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.ReservationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reservation, is_new = reservation_create(
            key=serializer.validated_data["key"],
            lines=serializer.line_tuples(),
            ttl_seconds=serializer.validated_data["ttl_seconds"],
        )
        return Response(
            ReservationSerializer(_render(reservation)).data,
            status=status.HTTP_201_CREATED if is_new else status.HTTP_200_OK,
        )


class ReservationDetailApi(InternalApiView):
    @extend_schema(operation_id="reservations_retrieve", responses=ReservationSerializer)
    def get(self, request: Request, reservation_id: uuid.UUID) -> Response:
        reservation = Reservation.objects.filter(id=reservation_id).first()
        if reservation is None:
            raise NotFound("No such reservation.")
        return Response(ReservationSerializer(_render(reservation)).data)


class ReservationCommitApi(InternalApiView):
    @extend_schema(
        operation_id="reservations_commit", request=None, responses=ReservationSerializer
    )
    def post(self, request: Request, reservation_id: uuid.UUID) -> Response:
        _reservation_or_404(reservation_id)
        # The sale's stock movements name the calling service (only services get here).
        caller = request.user.name if isinstance(request.user, ServicePrincipal) else "unknown"
        reservation = reservation_commit(reservation_id=reservation_id, actor=f"system:{caller}")
        return Response(ReservationSerializer(_render(reservation)).data)


class ReservationReleaseApi(InternalApiView):
    @extend_schema(
        operation_id="reservations_release", request=None, responses=ReservationSerializer
    )
    def post(self, request: Request, reservation_id: uuid.UUID) -> Response:
        _reservation_or_404(reservation_id)
        reservation = reservation_release(reservation_id=reservation_id)
        return Response(ReservationSerializer(_render(reservation)).data)
