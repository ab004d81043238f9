"""deploy/: the compose file, Envoy's configuration and the Kubernetes manifests parse, hold together, and
(for Kubernetes) validate against the API schemas (kubernetes-validate)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
ENVOY = DEPLOY / "compose" / "envoy.yaml"
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
KUBERNETES_VERSION = "1.30"


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _kinds() -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for path in MANIFESTS for doc in _documents(path)}


def test_compose_runs_postgres_two_collectors_envoy_and_the_portal() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert set(services) == {"postgres", "collector-1", "collector-2", "envoy", "portal"}
    for name in ("collector-1", "collector-2"):
        collector = services[name]
        assert collector["command"] == ["collector", "serve"]
        assert collector["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert collector["environment"]["RENTMETER_COLLECTOR_NAME"] == name
        assert collector["environment"]["RENTMETER_LISTEN"].endswith(":50051")
        assert collector["stop_grace_period"] == "30s"  # SIGTERM drains streams and jobs within it
    assert "./envoy.yaml:/etc/envoy/envoy.yaml:ro" in services["envoy"]["volumes"]
    assert "envoy:50051" in services["portal"]["command"]
    secrets = yaml.safe_load(COMPOSE.read_text())["secrets"]
    assert {"postgres_password", "portal_secret_key"} <= set(secrets)


def test_envoy_balances_grpc_over_the_compose_collectors_with_health_checks() -> None:
    config = yaml.safe_load(ENVOY.read_text())["static_resources"]
    (cluster,) = config["clusters"]
    options = cluster["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    assert "http2_protocol_options" in options["explicit_http_config"]  # gRPC needs HTTP/2 upstream
    assert "grpc_health_check" in cluster["health_checks"][0]
    endpoints = [
        e["endpoint"]["address"]["socket_address"]
        for e in cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    ]
    compose = yaml.safe_load(COMPOSE.read_text())["services"]
    assert {(e["address"], e["port_value"]) for e in endpoints} == {
        (name, 50051) for name in compose if name.startswith("collector-")
    }
    (listener,) = config["listeners"]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    route = manager["route_config"]["virtual_hosts"][0]["routes"][0]["route"]
    assert route["cluster"] == cluster["name"]
    assert route["timeout"] == "0s" and manager["stream_idle_timeout"] == "0s"  # report streams last hours


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_kubernetes_manifests_validate_against_the_api_schemas(path: Path) -> None:
    for document in _documents(path):
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_kubernetes_collectors_behind_a_headless_service_with_the_database_secret() -> None:
    kinds = _kinds()
    service = kinds[("Service", "rentmeter-collector")]["spec"]
    assert service["clusterIP"] == "None"  # headless: clients balance across the pods themselves
    deployment = kinds[("Deployment", "rentmeter-collector")]["spec"]
    assert service["selector"].items() <= deployment["template"]["metadata"]["labels"].items()
    (container,) = deployment["template"]["spec"]["containers"]
    env = {item["name"]: item for item in container["env"]}
    reference = env["RENTMETER_DB_URL"]["valueFrom"]["secretKeyRef"]
    secret = kinds[("Secret", reference["name"])]
    assert reference["key"] in secret["stringData"]
    assert container["readinessProbe"]["grpc"]["port"] == 50051
    assert deployment["template"]["spec"]["terminationGracePeriodSeconds"] >= 30
    portal = kinds[("Deployment", "rentmeter-portal")]["spec"]["template"]["spec"]["containers"][0]
    assert "rentmeter-collector:50051" in portal["args"]
