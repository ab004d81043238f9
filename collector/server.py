"""The collector's gRPC server: asyncio, with health, reflection, jobs and graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from collector.accounts.passwords import Passwords
from collector.api.access_servicer import AccessService
from collector.api.accounts_servicer import AccountService, SignInRules
from collector.api.agent_servicer import AgentService
from collector.api.audit_servicer import AuditService
from collector.api.controls import ControlHub
from collector.api.disputes_servicer import DisputeService
from collector.api.fleet_servicer import FleetService
from collector.api.insights_servicer import InsightsService
from collector.api.interceptors import AuthInterceptor
from collector.api.invoices_servicer import InvoiceService
from collector.api.jobs_servicer import JobService
from collector.api.machines_servicer import MachineService
from collector.api.metrics import Metrics
from collector.api.payments_servicer import PaymentService
from collector.api.plans_servicer import PlanService
from collector.api.pricing_servicer import PricingService
from collector.api.reflection import enable_reflection
from collector.api.renters_servicer import RenterService
from collector.api.sessions_servicer import SessionService
from collector.api.usage_servicer import UsageService
from collector.api.wallets_servicer import WalletService
from collector.config import CollectorSettings, SettingsError
from collector.core.clock import SteadyClock
from collector.core.limits import StreamAdmission, raise_open_files_limit
from collector.db.bus import ControlBus
from collector.db.database import Database
from collector.metering.keys import AgentKeys
from collector.metering.writer import ReportWriter
from collector.payments.gateways.alipay import AlipayGateway
from collector.payments.gateways.base import Gateway
from collector.payments.gateways.wechatpay import WeChatPayGateway
from collector.payments.providers import configured_providers
from collector.scheduler import JobScheduler, advice_rules
from collector.sessions.live_ticks import LiveTicks
from protos.rentmeter.v1 import (
    access_pb2,
    access_pb2_grpc,
    accounts_pb2,
    accounts_pb2_grpc,
    agent_pb2,
    agent_pb2_grpc,
    audit_pb2,
    audit_pb2_grpc,
    disputes_pb2,
    disputes_pb2_grpc,
    fleet_pb2,
    fleet_pb2_grpc,
    insights_pb2,
    insights_pb2_grpc,
    invoices_pb2,
    invoices_pb2_grpc,
    jobs_pb2,
    jobs_pb2_grpc,
    machines_pb2,
    machines_pb2_grpc,
    payments_pb2,
    payments_pb2_grpc,
    plans_pb2,
    plans_pb2_grpc,
    pricing_pb2,
    pricing_pb2_grpc,
    renters_pb2,
    renters_pb2_grpc,
    sessions_pb2,
    sessions_pb2_grpc,
    usage_pb2,
    usage_pb2_grpc,
    wallets_pb2,
    wallets_pb2_grpc,
)

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 8 * 1024 * 1024
SERVICE_NAMES = [
    module.DESCRIPTOR.services_by_name[name].full_name
    for module, name in (
        (agent_pb2, "AgentService"),
        (machines_pb2, "MachineService"),
        (plans_pb2, "PlanService"),
        (sessions_pb2, "SessionService"),
        (usage_pb2, "UsageService"),
        (invoices_pb2, "InvoiceService"),
        (wallets_pb2, "WalletService"),
        (renters_pb2, "RenterService"),
        (access_pb2, "AccessService"),
        (jobs_pb2, "JobService"),
        (accounts_pb2, "AccountService"),
        (fleet_pb2, "FleetService"),
        (audit_pb2, "AuditService"),
        (pricing_pb2, "PricingService"),
        (insights_pb2, "InsightsService"),
        (payments_pb2, "PaymentService"),
        (disputes_pb2, "DisputeService"),
    )
]

# The gateways' notifications go to the portal's routes (portal/notifications.py).
NOTIFY_PATH = "/notify/{gateway}"


def notify_url(settings: CollectorSettings, gateway: str) -> str:
    """Where the gateway POSTs its notifications: the portal's route for it."""
    return settings.portal_url.rstrip("/") + NOTIFY_PATH.format(gateway=gateway)


def _read(path: str, setting: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise SettingsError(f"{setting}: cannot read {path}: {exc.strerror}") from None


def configured_gateways(settings: CollectorSettings) -> dict[str, Gateway]:
    """Alipay and WeChat Pay where configured, by name."""
    gateways: dict[str, Gateway] = {}
    if settings.alipay_enabled:
        gateways["alipay"] = AlipayGateway(
            settings.alipay_app_id,
            _read(settings.alipay_private_key_file, "alipay_private_key_file"),
            _read(settings.alipay_public_key_file, "alipay_public_key_file"),
            notify_url(settings, "alipay"),
            sandbox=settings.alipay_sandbox,
            api_base=settings.alipay_api_base,
            agreements=settings.alipay_agreement_pay,
            sign_scene=settings.alipay_sign_scene,
        )
    if settings.wechatpay_enabled:
        apiv3_key = _read(settings.wechatpay_apiv3_key_file, "wechatpay_apiv3_key_file")
        if len(apiv3_key.encode()) != 32:
            raise SettingsError("wechatpay_apiv3_key_file: the API v3 key is 32 characters")
        gateways["wechatpay"] = WeChatPayGateway(
            settings.wechatpay_mchid,
            settings.wechatpay_appid,
            _read(settings.wechatpay_private_key_file, "wechatpay_private_key_file"),
            settings.wechatpay_cert_serial,
            apiv3_key,
            settings.wechatpay_platform_cert_dir,
            notify_url(settings, "wechatpay"),
            api_base=settings.wechatpay_api_base,
            papay_plan_id=settings.wechatpay_papay_plan_id,
        )
    return gateways


class Collector:
    """A running collector: call start(), then wait() or stop()."""

    def __init__(
        self,
        settings: CollectorSettings,
        *,
        now: Callable[[], datetime] | None = None,
        run_jobs: bool = True,
    ) -> None:
        self.settings = settings
        self._now = now = now or SteadyClock()
        self._run_jobs = run_jobs
        settings.ensure_db_dir()
        self.database = Database(settings.db_url)
        self.writer = ReportWriter(self.database, now=now)
        # Collectors sharing PostgreSQL tell each other controls, revocations and token changes.
        self.bus = None
        if self.database.engine.dialect.name == "postgresql":
            self.bus = ControlBus(settings.db_url, settings.collector_name or f"collector-{id(self):x}")
        self.controls = ControlHub(self.bus)
        self.ticks = LiveTicks()  # the agents' live ticks, shown in WatchSession, never billed
        self.keys = AgentKeys(self.database)
        self.metrics = Metrics()
        self.metrics.watch_backlog(lambda: self.writer.waiting)
        self.metrics.watch_revenue(self.database)
        self.metrics_port = 0
        self.health = health.aio.HealthServicer()
        self.auth = AuthInterceptor(self.database, now, rate_limit=settings.api_rate_limit)
        if self.bus is not None:
            self.keys.share(self.bus)
            self.auth.share(self.bus)
        self.passwords = Passwords()
        self.server = grpc.aio.server(
            interceptors=[self.auth],
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
                # Ping idle agent connections so dead ones (a machine switched off) are closed.
                ("grpc.keepalive_time_ms", 60_000),
                ("grpc.keepalive_timeout_ms", 20_000),
                # Many agents may share one connection behind a proxy: no HTTP/2 stream limit of 100.
                ("grpc.max_concurrent_streams", 100_000),
            ],
        )
        # Alipay and WeChat Pay where configured (their keys read from the files the settings name).
        self.gateways = configured_gateways(settings)
        self.scheduler = JobScheduler(
            self.database, settings, now, self.controls, self.metrics, self.gateways
        )
        self.port = 0

    def _add_services(self) -> None:
        db, now, settings, server, hub = self.database, self._now, self.settings, self.server, self.controls
        admission = StreamAdmission(settings.max_agent_streams, settings.stream_open_rate)
        agent = self.agents = AgentService(
            db, self.writer, hub, now, self.keys, self.metrics, settings.agent_report_rate_limit,
            ticks=self.ticks, admission=admission,
        )  # fmt: skip
        invoices = InvoiceService(
            db,
            now,
            period=settings.invoice_period,
            grace=settings.invoice_grace,
            prefix=settings.invoice_prefix,
            gateways=self.gateways,
        )
        agent_pb2_grpc.add_AgentServiceServicer_to_server(agent, server)
        machines = MachineService(db, now, hub, self.keys, settings.online_window)
        machines_pb2_grpc.add_MachineServiceServicer_to_server(machines, server)
        plans_pb2_grpc.add_PlanServiceServicer_to_server(PlanService(db, now), server)
        sessions = SessionService(db, now, hub, settings.hold_for, ticks=self.ticks)
        sessions_pb2_grpc.add_SessionServiceServicer_to_server(sessions, server)
        usage_pb2_grpc.add_UsageServiceServicer_to_server(UsageService(db, now), server)
        invoices_pb2_grpc.add_InvoiceServiceServicer_to_server(invoices, server)
        providers = configured_providers(settings.stripe_api_key, settings.stripe_api_base)
        wallets_pb2_grpc.add_WalletServiceServicer_to_server(WalletService(db, now, providers), server)
        renters_pb2_grpc.add_RenterServiceServicer_to_server(RenterService(db, now, self.auth), server)
        access_pb2_grpc.add_AccessServiceServicer_to_server(AccessService(db, now, self.auth), server)
        jobs_pb2_grpc.add_JobServiceServicer_to_server(JobService(db, now, self.scheduler.board), server)
        rules = SignInRules(settings.login_token_ttl, settings.login_rate_limit, settings.portal_url,
                            settings.self_signup)  # fmt: skip
        accounts = AccountService(db, now, self.auth, self.passwords, rules)
        accounts_pb2_grpc.add_AccountServiceServicer_to_server(accounts, server)
        levels = settings.alert_levels()
        fleet = FleetService(db, now, online_window=settings.online_window, board=self.scheduler.board,
                             low_balance=levels[0] if levels else None)  # fmt: skip
        fleet_pb2_grpc.add_FleetServiceServicer_to_server(fleet, server)
        audit_pb2_grpc.add_AuditServiceServicer_to_server(AuditService(db, now), server)
        pricing_pb2_grpc.add_PricingServiceServicer_to_server(PricingService(db, now), server)
        insights = InsightsService(db, now, grace=settings.insights_grace, advice=advice_rules(settings))
        insights_pb2_grpc.add_InsightsServiceServicer_to_server(insights, server)
        payments = PaymentService(db, now, self.gateways, order_ttl=settings.gateway_order_ttl,
                                  stripe_webhook_secret=settings.stripe_webhook_secret)  # fmt: skip
        payments_pb2_grpc.add_PaymentServiceServicer_to_server(payments, server)
        disputes_pb2_grpc.add_DisputeServiceServicer_to_server(DisputeService(db, now, self.gateways), server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        enable_reflection(
            [*SERVICE_NAMES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name], server
        )

    async def start(self) -> int:
        """Bind, start serving and scheduling; return the bound port (useful with port 0)."""
        self._add_services()
        self.port = self._bind()
        if self.port == 0:
            raise OSError(f"cannot listen on {self.settings.listen}")
        self.writer.start()
        if self.bus is not None:
            await self.bus.start()
        await self.server.start()
        if self.settings.metrics_listen:
            self.metrics_port = self.metrics.serve(self.settings.metrics_listen)
        if self._run_jobs:
            self.scheduler.start()
        for name in ["", *SERVICE_NAMES]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        logger.info(
            "collector serving on %s with %s, database %s",
            self.settings.listen.rsplit(":", 1)[0] + f":{self.port}",
            self.transport,
            self.database.engine.url.render_as_string(hide_password=True),
        )
        return self.port

    @property
    def transport(self) -> str:
        """How agents and admins connect, as the start-up line says it."""
        if not self.settings.tls_cert:
            return "plaintext (no TLS)"
        if self.settings.tls_client_ca:
            return "mutual TLS (client certificates required)"
        return "TLS (no client certificates)"

    def _bind(self) -> int:
        settings = self.settings
        if not settings.tls_cert:
            host = settings.listen.rsplit(":", 1)[0].strip("[]")
            if host not in ("127.0.0.1", "localhost", "::1"):
                if not settings.allow_plaintext:
                    raise OSError(
                        f"refusing to serve plaintext on {settings.listen}: set tls_cert and tls_key, or "
                        "allow_plaintext=1 behind a TLS-terminating proxy"
                    )
                logger.warning("serving PLAINTEXT on %s (allow_plaintext): reports and tokens are readable "
                               "on the network unless a proxy terminates TLS", settings.listen)  # fmt: skip
            else:
                logger.info("serving plaintext on loopback %s: use TLS for other machines", settings.listen)
            return self.server.add_insecure_port(settings.listen)
        try:
            key, cert = Path(settings.tls_key).read_bytes(), Path(settings.tls_cert).read_bytes()
            client_ca = Path(settings.tls_client_ca).read_bytes() if settings.tls_client_ca else None
        except OSError as exc:
            raise OSError(f"cannot read TLS file {exc.filename}: {exc.strerror}") from None
        credentials = grpc.ssl_server_credentials(
            [(key, cert)], root_certificates=client_ca, require_client_auth=client_ca is not None
        )
        return self.server.add_secure_port(settings.listen, credentials)

    async def stop(self, grace: float = 5.0) -> None:
        """Shut down gracefully: report NOT_SERVING (a load balancer sends no new calls), let the jobs under
        way finish and drain the report streams (acks for what is stored, then UNAVAILABLE: agents
        reconnect elsewhere) within `grace` seconds, stop serving, then release everything."""
        await self.health.enter_graceful_shutdown()
        agents = getattr(self, "agents", None)
        draining = agents.drain(grace) if agents is not None else asyncio.sleep(0)
        await asyncio.gather(self.scheduler.shutdown(grace), draining)
        await self.server.stop(grace)
        self.metrics.stop()
        await self.writer.stop()
        if self.bus is not None:
            await self.bus.stop()
        self.passwords.close()
        self.database.close()
        logger.info("collector stopped")

    async def wait(self) -> None:
        await self.server.wait_for_termination()


async def serve(settings: CollectorSettings) -> None:
    """Run a collector until SIGINT or SIGTERM, then shut down gracefully."""
    files = raise_open_files_limit()
    logger.info("open files limit %d (each agent stream holds one)", files)
    collector = Collector(settings)
    await collector.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await collector.stop()
