"""Stock reservations and restocks for checkout (internal, service credential only)."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.auth import ServicePrincipal
from clipcart_shared.serializers import CharField, IntegerField, UUIDField
from clipcart_shared.views import InternalApiView
from core.serializers import MAX_QUANTITY, LinesInputSerializer
from inventory.models import Reservation, StockMovement
from inventory.services import (
    reservation_commit,
    reservation_create,
    reservation_release,
    stock_restock,
)

MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 24 * 3600


class ReservationLineSerializer(serializers.Serializer):
    variant_id = serializers.UUIDField()
    quantity = serializers.IntegerField()


class ReservationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    promotions = serializers.ListField(child=serializers.UUIDField())
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
        "promotions": sorted(
            str(promotion_id)
            for promotion_id in reservation.promotions.values_list("promotion_id", flat=True)
        ),
    }


def _reservation_or_404(reservation_id: uuid.UUID) -> None:
    if not Reservation.objects.filter(id=reservation_id).exists():
        raise NotFound("No such reservation.")


class FlashUnitsSerializer(serializers.Serializer):
    deal_id = UUIDField()
    quantity = IntegerField(min_value=1, max_value=MAX_QUANTITY)


class ReservationCreateApi(InternalApiView):
    class ReservationInputSerializer(LinesInputSerializer):
        key = CharField(max_length=200, help_text="Caller's key; one reservation per key.")
        ttl_seconds = IntegerField(
            min_value=MIN_TTL_SECONDS, max_value=MAX_TTL_SECONDS, default=15 * 60
        )
        promotions = serializers.ListField(
            child=UUIDField(),
            required=False,
            default=list,
            max_length=20,
            help_text="Promotions (a quote's `discounts`) whose use to hold with the stock.",
        )
        customer_id = CharField(
            max_length=128, required=False, help_text="The buyer, for per-buyer limits."
        )
        flash_deals = FlashUnitsSerializer(
            many=True,
            required=False,
            default=list,
            help_text="Units at a flash deal's price (a quote line's `flash_deal`) to hold.",
        )

    @extend_schema(
        operation_id="reservations_create",
        request=ReservationInputSerializer,
        responses={201: ReservationSerializer, 200: ReservationSerializer},
        description="Hold stock for every line, all or nothing. The same key again answers "
        "200 with the same reservation and changes nothing; 409 `out_of_stock` names each "
        "short line. With `promotions`, one use of each is held for `customer_id` in the same "
        "reservation (consumed on commit, back on release or expiry): 409 "
        "`promotion_exhausted`, `promotion_already_used` or `promotion_expired`. With "
        "`flash_deals`, their units are held the same way: 409 `flash_deal_sold_out`, "
        "`flash_deal_limit_reached` or `flash_deal_ended`.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.ReservationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reservation, is_new = reservation_create(
            key=serializer.validated_data["key"],
            lines=serializer.line_tuples(),
            ttl_seconds=serializer.validated_data["ttl_seconds"],
            promotion_ids=serializer.validated_data["promotions"],
            customer_id=serializer.validated_data.get("customer_id"),
            flash_units=[
                (units["deal_id"], units["quantity"])
                for units in serializer.validated_data["flash_deals"]
            ],
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


class RestockLineSerializer(serializers.Serializer):
    variant_id = serializers.UUIDField()
    quantity = serializers.IntegerField()
    on_hand_after = serializers.IntegerField(help_text="On hand right after this restock.")


class RestockSerializer(serializers.Serializer):
    key = serializers.CharField()
    lines = RestockLineSerializer(many=True)


def _caller(request: Request) -> str:
    name = request.user.name if isinstance(request.user, ServicePrincipal) else "unknown"
    return f"system:{name}"


class RestockCreateApi(InternalApiView):
    class RestockInputSerializer(LinesInputSerializer):
        key = CharField(
            max_length=200, help_text="Caller's key (a refund's or a return's id): once per key."
        )
        reason = CharField(max_length=120, help_text="Why the units came back (`returned`).")
        order_id = UUIDField(required=False, help_text="The order they were sold in.")

    @extend_schema(
        operation_id="restocks_create",
        request=RestockInputSerializer,
        responses={200: RestockSerializer},
        description="Sold units come back on the shelf, each variant logged as a "
        "`restocked` stock movement with the key as its reference. The same key again "
        "answers the same movements and changes nothing; the same key with other lines is "
        "422 `restock_key_reused`; an unknown variant 422 `variant_unavailable`.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.RestockInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order_id = data.get("order_id")
        note = data["reason"] if order_id is None else f"{data['reason']} (order {order_id})"
        movements = stock_restock(
            key=data["key"], lines=serializer.line_tuples(), actor=_caller(request), note=note
        )
        return Response(RestockSerializer(_restock_render(data["key"], movements)).data)


def _restock_render(key: str, movements: list[StockMovement]) -> dict[str, object]:
    return {
        "key": key,
        "lines": [
            {
                "variant_id": str(movement.variant_id),
                "quantity": movement.delta,
                "on_hand_after": movement.on_hand_after,
            }
            for movement in sorted(movements, key=lambda movement: str(movement.variant_id))
        ],
    }
