"""`rentmeter loadgen --agents N --interval S --duration D [--processes P]`: simulated agents against a
collector (rentmeter/loadgen.py), for load tests. Needs an admin API token (--api-token or RENTMETER_TOKEN)
to create the enrollment tokens; every agent enrolls a new machine. Prints reports sent, acknowledged and
refused, send->ack p50/p99 and the status codes seen. Exit code 0 when every report was acknowledged and
no stream failed, 1 otherwise."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from multiprocessing.synchronize import Barrier
from typing import TYPE_CHECKING

from rentmeter import numbers
from rentmeter.commands.remote import Commands, collector_address, remote_options
from rentmeter.errors import EXIT_REFUSED, UsageError

if TYPE_CHECKING:
    from rentmeter.loadgen import LoadStats


def register(commands: Commands) -> None:
    loadgen = commands.add_parser(
        "loadgen", parents=[remote_options(tls=False)],
        help="load-test a collector with simulated agents (real keys, signatures and streams)",
    )  # fmt: skip
    loadgen.add_argument("--agents", type=numbers.whole("agents", 1_000_000, minimum=1), default=100)
    loadgen.add_argument("--interval", type=numbers.seconds, default=1.0, help="seconds between samples")
    loadgen.add_argument("--report-every", type=numbers.whole("samples", 10_000, minimum=1), default=5,
                         help="samples per report (default 5, as the agent)")  # fmt: skip
    loadgen.add_argument("--duration", type=numbers.seconds, default=60.0, help="seconds of reporting")
    loadgen.add_argument("--processes", type=numbers.whole("processes", 256, minimum=1), default=0,
                         help="processes driving the agents (default: one per 2 000 agents)")  # fmt: skip
    loadgen.add_argument(
        "--streams-per-connection",
        type=numbers.whole("streams", 10_000, minimum=1),
        default=1,
        help="agents sharing one TCP connection (default 1, as real machines)",
    )
    loadgen.add_argument("--drain", type=numbers.seconds, default=30.0,
                         help="seconds to wait for the last acks after --duration")  # fmt: skip
    loadgen.set_defaults(handler=run_loadgen)


AGENTS_PER_PROCESS = 2000


def run_loadgen(args: argparse.Namespace) -> int:
    from collector.core.limits import raise_open_files_limit
    from rentmeter.loadgen import LoadStats

    if not args.api_token:
        raise UsageError(
            "loadgen enrolls its agents: give an admin API token (--api-token or RENTMETER_TOKEN)"
        )
    target = collector_address(args.collector)
    raise_open_files_limit()
    processes = args.processes or max(1, -(-args.agents // AGENTS_PER_PROCESS))
    processes = min(processes, args.agents)
    shares = [args.agents // processes + (1 if i < args.agents % processes else 0) for i in range(processes)]
    print(f"loadgen: {args.agents} agents x {args.duration:g} s against {target}, a sample every "
          f"{args.interval:g} s, a report every {args.report_every} samples, {processes} process(es)",
          file=sys.stderr, flush=True)  # fmt: skip
    began = time.monotonic()
    stats = LoadStats()
    if processes == 1:
        stats = _one_process(target, args.api_token, shares[0], _options(args), None)
    else:
        stats = _processes(target, args.api_token, shares, _options(args))
    _print(stats, time.monotonic() - began)
    clean = stats.failed == 0 and stats.unacked == 0 and not stats.stream_errors
    return 0 if clean else EXIT_REFUSED


def _processes(target: str, api_token: str, shares: list[int], options: dict[str, float | int]) -> LoadStats:
    """Drive the agents from one child process per share; their stats merged."""
    from rentmeter.loadgen import LoadStats

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(shares))
    results: multiprocessing.Queue[LoadStats | str] = context.Queue()
    children = [
        context.Process(target=_child, args=(target, api_token, n, options, barrier, results), daemon=True)
        for n in shares
    ]
    for child in children:
        child.start()
    stats = LoadStats()
    for _ in children:
        result = results.get()
        if isinstance(result, str):
            raise UsageError(f"a load generator process failed: {result}")
        stats.merge(result)
    for child in children:
        child.join()
    return stats


def _child(
    target: str,
    api_token: str,
    agents: int,
    options: dict[str, float | int],
    barrier: Barrier,
    results: multiprocessing.Queue[LoadStats | str],
) -> None:
    try:
        results.put(_one_process(target, api_token, agents, options, barrier))
    except Exception as exc:  # the parent reports it in one sentence
        barrier.abort()
        results.put(f"{type(exc).__name__}: {exc}")


def _options(args: argparse.Namespace) -> dict[str, float | int]:
    return {"interval": args.interval, "duration": args.duration, "report_every": args.report_every,
            "drain_s": args.drain, "streams_per_connection": args.streams_per_connection}  # fmt: skip


def _one_process(
    target: str, api_token: str, agents: int, options: dict[str, float | int], barrier: Barrier | None
) -> LoadStats:
    """Enroll `agents` agents, wait for the other processes, then drive them (in a child process)."""
    from collector.core.limits import raise_open_files_limit
    from rentmeter.loadgen import drive, enroll_agents

    raise_open_files_limit()

    async def main() -> LoadStats:
        identities = await enroll_agents(target, api_token, agents)
        if barrier is not None:
            await asyncio.get_running_loop().run_in_executor(None, barrier.wait)
        return await drive(target, identities, **options)  # type: ignore[arg-type]

    return asyncio.run(main())


def _print(stats: LoadStats, wall_s: float) -> None:
    statuses = ", ".join(f"{name} {n}" for name, n in sorted(stats.ack_statuses.items())) or "none"
    errors = ", ".join(f"{name} x{n}" for name, n in sorted(stats.stream_errors.items())) or "none"
    print(f"  reports sent    {stats.sent:>10,}")
    print(f"  acknowledged    {stats.acked:>10,}")
    print(f"  refused         {stats.failed:>10,}")
    print(f"  unacknowledged  {stats.unacked:>10,}")
    p50, p99 = stats.percentile(0.5) * 1000, stats.percentile(0.99) * 1000
    longest = max(stats.latencies_s, default=0) * 1000
    print(f"  send->ack       p50 {p50:,.1f} ms   p99 {p99:,.1f} ms   max {longest:,.1f} ms")
    print(f"  ack statuses    {statuses}")
    print(f"  stream errors   {errors}")
    print(f"  wall            {wall_s:,.1f} s (enrollment included)")
