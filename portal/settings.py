"""The portal's settings: one frozen object per process, built once from the environment and the command
line (a mapping passed in, so tests need no patching).

Environment (flags of `rentmeter portal serve` win over them):

    RENTMETER_PORTAL_LISTEN           HOST:PORT to serve HTTP on (default 127.0.0.1:8080)
    RENTMETER_PORTAL_PUBLIC_URL       the address people open, e.g. https://portal.example.net (default:
                                      http://LISTEN); https makes the session cookie Secure
    RENTMETER_PORTAL_SECRET_KEY       signs the session cookies: at least 32 characters, not a placeholder
    RENTMETER_PORTAL_SECRET_KEY_FILE  or a file holding it (a secrets manager's mount)
    RENTMETER_PORTAL_TRUSTED_PROXIES  comma-separated addresses of reverse proxies whose X-Forwarded-For and
                                      X-Forwarded-Proto are believed (default: none)
    RENTMETER_PORTAL_AGENT_COLLECTOR  HOST:PORT that agents dial, put in the install command the host's
                                      Enrollment page shows (default: the portal's collector address)
    RENTMETER_PORTAL_GATEWAY_TOKEN    an API token of role `gateway` (`rentmeter access create --role
    RENTMETER_PORTAL_GATEWAY_TOKEN_FILE  gateway`), or a file holding it: the payment gateways' notifications
                                      (/notify/alipay, /notify/wechatpay, /webhooks/stripe) are handed to
                                      the collector with it (unset: those routes answer 503)
    RENTMETER_COLLECTOR, RENTMETER_TLS_CA / _CERT / _KEY   the collector and TLS to it, as for the CLI
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from portal.errors import SettingsError

DEFAULT_LISTEN = "127.0.0.1:8080"
MIN_SECRET_CHARS = 32
# Values people paste from examples; a portal signing cookies with one of them is open to forgery.
PLACEHOLDER_WORDS = ("change", "placeholder", "example", "secret", "xxxx", "todo", "insecure")
ENV_PREFIX = "RENTMETER_PORTAL_"


@dataclass(frozen=True)
class TlsFiles:
    """PEM files for TLS to the collector: its CA ('' = the system's) and an optional client certificate."""

    ca: str = ""
    cert: str = ""
    key: str = ""


@dataclass(frozen=True)
class PortalSettings:
    collector: str
    secret_key: str = field(repr=False)
    listen: str = DEFAULT_LISTEN
    public_url: str = ""
    tls: TlsFiles | None = None  # None: plaintext to the collector
    trusted_proxies: tuple[str, ...] = ()
    # Sign-in attempts one client address may make per window before waiting (the collector also locks
    # accounts after repeated failures).
    signin_attempts: int = 10
    signin_window_s: float = 300.0
    # How long a session cookie lives (the collector's token may end sooner: then sign-in again).
    session_max_age_s: int = 12 * 3600
    call_timeout_s: float = 15.0
    # The collector address agents dial ("" = `collector`): the portal may reach the collector on a private
    # address that the hosts' machines cannot.
    agent_collector: str = ""
    # The `gateway` API token the payment notifications are handed to the collector with ("" = refused).
    gateway_token: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        check_secret(self.secret_key)
        host_and_port(self.listen)
        if self.agent_collector:
            host_and_port(self.agent_collector, "the agents' collector address")
        if self.public_url and urlsplit(self.public_url).scheme not in ("http", "https"):
            raise SettingsError(f"the public URL {self.public_url!r} must start with http:// or https://")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_address(proxy)
            except ValueError:
                raise SettingsError(f"trusted proxy {proxy!r} is not an IP address") from None

    @property
    def base_url(self) -> str:
        """Where people reach the portal, without a trailing slash."""
        return (self.public_url or f"http://{self.listen}").rstrip("/")

    @property
    def agents_dial(self) -> str:
        """HOST:PORT of the collector as the agents reach it (for the install command)."""
        return self.agent_collector or self.collector

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS: when the public address is https (TLS ends here or at a proxy)."""
        return self.base_url.startswith("https://")


def check_secret(secret: str) -> None:
    """Refuse an empty, short or placeholder secret with a sentence saying what to do."""
    hint = "set RENTMETER_PORTAL_SECRET_KEY (or _FILE) to e.g. the output of `openssl rand -base64 48`"
    if not secret.strip():
        raise SettingsError(f"the portal has no secret key to sign its cookies: {hint}")
    if len(secret) < MIN_SECRET_CHARS:
        raise SettingsError(f"the portal's secret key has {len(secret)} characters, fewer than 32: {hint}")
    lowered = secret.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS) or len(set(secret)) < 8:
        raise SettingsError(f"the portal's secret key looks like a placeholder: {hint}")


def host_and_port(address: str, what: str = "the listen address") -> tuple[str, int]:
    host, colon, port = address.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise SettingsError(f"{what} {address!r} is not HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]"), int(port)


def settings_from(environ: Mapping[str, str], **flags: str | None) -> PortalSettings:
    """Settings from `flags` (those not None) over RENTMETER_PORTAL_* in `environ`.

    Flags: collector (required), listen, public_url, secret_key, secret_key_file, trusted_proxies (comma
    list), agent_collector, tls_ca, tls_cert, tls_key (already resolved from RENTMETER_TLS_* by the CLI)."""

    def setting(name: str, default: str = "") -> str:
        value = flags.get(name)
        return value if value is not None else environ.get(ENV_PREFIX + name.upper(), default)

    collector = flags.get("collector") or ""
    if not collector:
        raise SettingsError("say which collector the portal talks to: --collector HOST:PORT")
    tls_files = TlsFiles(flags.get("tls_ca") or "", flags.get("tls_cert") or "", flags.get("tls_key") or "")
    if bool(tls_files.cert) != bool(tls_files.key):
        raise SettingsError("--tls-cert and --tls-key go together (a client certificate and its key)")
    proxies = tuple(p.strip() for p in setting("trusted_proxies").split(",") if p.strip())
    return PortalSettings(
        collector=collector,
        secret_key=_secret(setting("secret_key"), setting("secret_key_file"))
        if flags.get("secret_key_file") is None
        else _secret("", str(flags["secret_key_file"])),
        listen=setting("listen", DEFAULT_LISTEN),
        public_url=setting("public_url"),
        tls=tls_files if any((tls_files.ca, tls_files.cert, tls_files.key)) else None,
        trusted_proxies=proxies,
        agent_collector=setting("agent_collector"),
        gateway_token=_secret(setting("gateway_token"), setting("gateway_token_file"), "gateway token"),
    )


def _secret(value: str, file: str, what: str = "secret key") -> str:
    if value and file:
        raise SettingsError(f"give the portal's {what} either directly or as a file, not both")
    if not file:
        return value
    try:
        return Path(file).read_text().strip()
    except OSError as exc:
        raise SettingsError(f"cannot read the portal's {what} file {file}: {exc.strerror}") from None
