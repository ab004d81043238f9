"""What the agent does on the machine when the collector sends a control message.

The host decides: each kind of control (session-started, session-stopped, low-balance, lock-now) maps to
one action. Built in: `log`, `notify` (the default: log, and a desktop notification where the platform has
one), `lock` (lock the screen), `logout` (end the logged-in users' sessions), and `command:PATH` (run a
program of the host's; it gets the control in RENTMETER_CONTROL_* environment variables). An action runs on
its own thread and never blocks reporting; a failing action is logged.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import psutil

from agent.errors import AgentError

logger = logging.getLogger(__name__)

KINDS = ("session-started", "session-stopped", "low-balance", "lock-now", "idle-warning")
DEFAULT_ACTIONS = {
    "session-started": "log",
    "session-stopped": "notify",
    "low-balance": "notify",
    "lock-now": "notify",
    "idle-warning": "notify",
}


@dataclass(frozen=True, slots=True)
class ControlEvent:
    kind: str  # one of KINDS
    session_id: str
    renter: str
    message: str

    def text(self) -> str:
        detail = f" ({self.message})" if self.message else ""
        session = f" session {self.session_id}" if self.session_id else ""
        return f"rentmeter: {self.kind}{session}{detail}"


Action = Callable[[ControlEvent], None]


def _run(command: list[str], env: Mapping[str, str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, env=env, check=False)
    if result.returncode != 0:
        raise AgentError(f"{command[0]} exited {result.returncode}: {result.stderr.strip()[:200]}")


def log_action(event: ControlEvent) -> None:
    logger.info("%s", event.text())


def notify_action(event: ControlEvent) -> None:
    """Log, then show a desktop notification where one can be shown."""
    log_action(event)
    if sys.platform.startswith("linux") and shutil.which("notify-send") and os.environ.get("DISPLAY"):
        _run(["notify-send", "rentmeter", event.text()])
    elif sys.platform == "darwin":
        _run(["osascript", "-e", f'display notification {event.text()!r} with title "rentmeter"'])
    elif sys.platform == "win32":
        _run(["msg", "*", event.text()])


def lock_action(event: ControlEvent) -> None:
    log_action(event)
    if sys.platform == "win32":
        _run(["rundll32.exe", "user32.dll,LockWorkStation"])
    elif sys.platform == "darwin":
        _run(["pmset", "displaysleepnow"])
    else:
        _run(["loginctl", "lock-sessions"])


def logout_action(event: ControlEvent) -> None:
    log_action(event)
    if sys.platform == "win32":
        _run(["shutdown", "/l"])
    elif sys.platform == "darwin":
        _run(["osascript", "-e", 'tell application "System Events" to log out'])
    else:
        for user in sorted({u.name for u in psutil.users() if u.name != "root"}):
            _run(["loginctl", "terminate-user", user])


def command_action(path: str) -> Action:
    def run(event: ControlEvent) -> None:
        env = {
            **os.environ,
            "RENTMETER_CONTROL_KIND": event.kind,
            "RENTMETER_CONTROL_SESSION": event.session_id,
            "RENTMETER_CONTROL_RENTER": event.renter,
            "RENTMETER_CONTROL_MESSAGE": event.message,
        }
        _run([path], env)

    return run


BUILT_IN: dict[str, Action] = {
    "log": log_action,
    "notify": notify_action,
    "lock": lock_action,
    "logout": logout_action,
}


def parse_action(spec: str) -> Action:
    """`log`, `notify`, `lock`, `logout` or `command:PATH`; AgentError otherwise."""
    if spec.startswith("command:") and spec.removeprefix("command:"):
        return command_action(spec.removeprefix("command:"))
    try:
        return BUILT_IN[spec]
    except KeyError:
        raise AgentError(f"unknown action {spec!r}: use log, notify, lock, logout or command:PATH") from None


class ActionDispatcher:
    """Runs the host's action for each control event on a thread of its own."""

    def __init__(self, specs: Mapping[str, str]) -> None:
        unknown = set(specs) - set(KINDS)
        if unknown:
            raise AgentError(
                f"no such control kind: {', '.join(sorted(unknown))}; kinds are {', '.join(KINDS)}"
            )
        self._actions = {kind: parse_action(specs.get(kind, DEFAULT_ACTIONS[kind])) for kind in KINDS}

    def dispatch(self, event: ControlEvent) -> threading.Thread:
        thread = threading.Thread(target=self._run, args=(event,), name=f"action-{event.kind}", daemon=True)
        thread.start()
        return thread

    def _run(self, event: ControlEvent) -> None:
        try:
            self._actions[event.kind](event)
        except Exception:  # an action is the host's business; reporting goes on
            logger.exception("action for %s failed", event.kind)
