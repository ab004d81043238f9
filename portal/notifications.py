"""The payment gateways' notifications: `POST /notify/alipay`, `/notify/wechatpay` and `/webhooks/stripe`.

The gateways' servers POST here, not browsers: these paths alone take no CSRF token (security.py,
`exempt`). The portal holds no gateway key and never touches the database: it hands the raw body and the
headers each gateway signs with to the collector (PaymentService.ApplyNotification, with the portal's
`gateway` token), which verifies the signature first, applies the notification once and says what to
answer (Alipay `success`, WeChat Pay `{"code":"SUCCESS"}`, Stripe 200; a refusal otherwise). When the
collector cannot be reached the answer is 503, so the gateway sends the notification again later.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.errors import PortalError
from portal.settings import PortalSettings
from protos.rentmeter.v1 import payments_pb2

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
# The headers each gateway's signature or parsing needs; nothing else is handed over.
HEADERS = {
    "alipay": ("content-type",),
    "wechatpay": ("wechatpay-signature", "wechatpay-timestamp", "wechatpay-nonce", "wechatpay-serial",
                  "wechatpay-signature-type", "content-type"),
    "stripe": ("stripe-signature", "content-type"),
}  # fmt: skip
UNAVAILABLE = Response("try again later", status_code=503, media_type="text/plain")


async def hand_over(request: Request, gateway: str) -> Response:
    settings: PortalSettings = request.app.state.settings
    if not settings.gateway_token:
        logger.warning("a %s notification arrived, but the portal has no gateway token", gateway)
        return UNAVAILABLE
    body = await request.body()
    if len(body) > MAX_BODY:
        return Response("too large", status_code=413, media_type="text/plain")
    headers = [payments_pb2.Header(name=name, value=request.headers[name])
               for name in HEADERS[gateway] if name in request.headers]  # fmt: skip
    api = request.app.state.collector.as_user(settings.gateway_token)
    try:
        reply = await api.payments.ApplyNotification(
            payments_pb2.Notification(gateway=gateway, headers=headers, body=body)
        )
    except PortalError as exc:
        logger.warning("a %s notification could not be handed to the collector: %s", gateway, exc)
        return UNAVAILABLE
    return Response(reply.body, status_code=reply.http_status, media_type=reply.content_type or None)


async def alipay(request: Request) -> Response:
    return await hand_over(request, "alipay")


async def wechatpay(request: Request) -> Response:
    return await hand_over(request, "wechatpay")


async def stripe(request: Request) -> Response:
    return await hand_over(request, "stripe")


ROUTES = [
    Route("/notify/alipay", alipay, methods=["POST"]),
    Route("/notify/wechatpay", wechatpay, methods=["POST"]),
    Route("/webhooks/stripe", stripe, methods=["POST"]),
]
PATHS = frozenset(route.path for route in ROUTES)
