"""Benchmark: the AP syslog listener under a flood (not a test; prints numbers).

    python benchmarks/syslog_flood.py [--duration 60] [--pure-seconds 3] [--senders 200] [--rate 0]

Two phases:

- pure: the parser + signature matcher (+ correlator) in a tight loop on one
  core, no sockets: messages per second for noise, for the tech note's
  failure lines, and for a 50/50 mix;
- udp: the real `SyslogListener` on 127.0.0.1 with an inventory of 2,000 APs,
  flooded for `--duration` seconds (default 60) by a sender in a separate
  process, from `--senders` loopback source addresses (127.0.0.2, ...), as
  fast as it can (`--rate 0`) or at a target rate. Sampled every second:
  RSS of the listener process and the event loop's lag (how late a 10 ms
  sleep wakes up), which is what a flood would do to Slack and the scheduler.

Loopback only. Bounded: the flood stops after `--duration`, the sender is
killed if it overruns, the listener is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.domain.models import AccessPoint, ControllerSnapshot, Platform  # noqa: E402
from bot.syslog import (  # noqa: E402
    Correlator,
    ListenerOptions,
    ListenSpec,
    SyslogListener,
    SyslogProcessor,
    default_signatures,
    parse_message,
)

FIXTURES = ROOT / "tests" / "fixtures" / "syslog"
CONTROLLERS = 10
APS_PER_CONTROLLER = 200

NOISE = [
    "*Dec 6 21:35:24.327: %LINK-3-UPDOWN: Interface GigabitEthernet0, changed state to up",
    "*Dec 6 21:35:24.327: %LINEPROTO-5-UPDOWN: Line protocol on Interface Dot11Radio1, changed state to up",
    "*Dec 6 21:35:24.327: %DOT11-6-ASSOC: Interface Dot11Radio0, Station 0011.2233.4455 Associated KEY_MGMT[WPAv2 PSK]",
    "*Dec 6 21:35:24.327: %CAPWAP-5-DTLSREQSEND: DTLS connection request sent peer_ip: 192.0.2.10 peer_port: 5246",
    "*Dec 6 21:35:24.327: %CAPWAP-5-CHANGED: CAPWAP changed state to DISCOVERY",
    "*Dec 6 21:35:24.327: %DTLS-5-SEND_ALERT: Send FATAL : Close notify Alert to 192.0.2.10:5246",
]


def ap_name(c: int, a: int) -> str:
    return f"AP{c:02d}-{a:03d}"


def inventory() -> list[ControllerSnapshot]:
    now = datetime.now(UTC)
    return [
        ControllerSnapshot(
            name=f"wlc-{c}",
            platform=Platform.AIREOS,
            host=f"192.0.2.{c + 1}",
            taken_at=now,
            aps=[
                AccessPoint(ap_name(c, a), model="AIR-CAP3702I-E-K9", ip=f"10.{c}.{a // 250}.{a % 250 + 2}")
                for a in range(APS_PER_CONTROLLER)
            ],
        )
        for c in range(CONTROLLERS)
    ]


def technote_lines() -> list[str]:
    return [
        line
        for name in ("ap_console_sha1_expired.log", "ap_console_sha2_expired.log")
        for line in (FIXTURES / name).read_text().splitlines()
    ]


def corpus(kind: str, size: int = 600) -> list[bytes]:
    """Datagrams as APs send them: BSD header with the AP name, the console line as MSG."""
    failures = technote_lines()
    out: list[bytes] = []
    for i in range(size):
        host = ap_name(i % CONTROLLERS, (i // CONTROLLERS) % APS_PER_CONTROLLER)
        noisy = kind == "noise" or (kind == "mixed" and i % 2 == 1)
        line = NOISE[i % len(NOISE)] if noisy else failures[i % len(failures)]
        out.append(f"<3>Dec  6 21:35:24 {host} {line}".encode())
    return out


# --------------------------------------------------------------------- pure


def rate(fn: Any, messages: list[bytes], seconds: float) -> float:
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for m in messages:
            fn(m)
        done += len(messages)
    return done / (time.perf_counter() - start)


def bench_pure(seconds: float) -> dict[str, float]:
    signatures = default_signatures()
    mixed = corpus("mixed")
    results: dict[str, float] = {}
    results["parse only (mixed)"] = rate(parse_message, mixed, seconds)
    texts = [parse_message(m).text for m in mixed]
    results["match only (mixed)"] = rate(signatures.match, texts, seconds)  # type: ignore[arg-type]
    for kind in ("noise", "failures", "mixed"):
        results[f"parse+match ({kind})"] = rate(
            lambda m: signatures.match(parse_message(m).text), corpus(kind), seconds
        )
    for kind in ("noise", "failures", "mixed"):
        correlator = Correlator()
        correlator.update_inventory(inventory())
        processor = SyslogProcessor(signatures, correlator)
        results[f"parse+match+correlate ({kind})"] = rate(
            lambda m, p=processor: p.handle(m, "127.0.0.1"), corpus(kind), seconds
        )
    return results


# ---------------------------------------------------------------------- udp


def run_sender(port: int, duration: float, senders: int, target_rate: float) -> None:
    """Child process: blast the mixed corpus from many loopback sources, print what was sent."""
    messages = corpus("mixed", 6000)
    # 1 in 10 datagrams from a hostname nobody knows, to fill the unknown-sender table.
    for i in range(0, len(messages), 10):
        messages[i] = f"<3>Dec  6 21:35:24 ROGUE-{i} {technote_lines()[2]}".encode()
    socks = []
    for i in range(senders):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((f"127.0.{(i + 2) // 250}.{(i + 2) % 250}", 0))
        socks.append(s)
    sent = errors = 0
    start = time.perf_counter()
    end = start + duration
    n = 0
    while True:
        now = time.perf_counter()
        if now >= end:
            break
        if target_rate and sent > (now - start) * target_rate:
            time.sleep(0.001)
            continue
        for _ in range(200):
            try:
                socks[n % senders].sendto(messages[n % len(messages)], ("127.0.0.1", port))
                sent += 1
            except OSError:
                errors += 1
            n += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"sent": sent, "errors": errors, "seconds": elapsed}))


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


async def bench_udp(duration: float, senders: int, target_rate: float, rate_limit: bool) -> dict[str, Any]:
    options = ListenerOptions() if rate_limit else ListenerOptions(rate_per_sender=None)
    listener = SyslogListener([ListenSpec("udp", "127.0.0.1", 0)], options=options)
    listener.update_inventory(inventory())
    rss_before = rss_mb()
    await listener.start()
    samples: list[dict[str, float]] = []
    lags: list[float] = []
    try:
        port = listener.port("udp")
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--role",
            "sender",
            "--port",
            str(port),
            "--duration",
            str(duration),
            "--senders",
            str(senders),
            "--rate",
            str(target_rate),
            stdout=subprocess.PIPE,
        )
        stop = asyncio.Event()

        async def lag_probe() -> None:
            while not stop.is_set():
                t = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append(time.perf_counter() - t - 0.01)

        async def sampler() -> None:
            t0 = time.perf_counter()
            while not stop.is_set():
                await asyncio.sleep(1.0)
                c = listener.counters
                samples.append(
                    {
                        "t": round(time.perf_counter() - t0, 1),
                        "rss_mb": round(rss_mb(), 1),
                        "received": c.received,
                        "parsed": c.parsed,
                        "queued": listener.status().queued,
                    }
                )

        probe = asyncio.create_task(lag_probe())
        sample = asyncio.create_task(sampler())
        try:
            out, _ = await asyncio.wait_for(child.communicate(), timeout=duration + 30)
        except TimeoutError:
            child.kill()
            await child.wait()
            out = b"{}"
        drained = await listener.wait_idle(timeout=30)
        stop.set()
        await asyncio.gather(probe, sample)
        sender = json.loads(out.decode() or "{}")
    finally:
        status = listener.status(unknown_limit=1000)
        await listener.stop()
    c = status.counters
    rss = [s["rss_mb"] for s in samples]
    half = rss[len(rss) // 2 :] or rss
    lags_ms = sorted(x * 1000 for x in lags)
    return {
        "duration_s": duration,
        "senders": senders,
        "rate_limit": rate_limit,
        "sent": sender.get("sent"),
        "sent_per_s": round(sender.get("sent", 0) / max(sender.get("seconds", 1), 1e-9)),
        "counters": c.as_dict(),
        "lost_in_kernel": (sender.get("sent") or 0) - c.received,
        "processed_per_s": round((c.parsed + c.malformed) / duration),
        "matched_per_s": round(c.matched / duration),
        "drained": drained,
        "rss_before_mb": round(rss_before, 1),
        "rss_peak_mb": max(rss) if rss else None,
        "rss_end_mb": rss[-1] if rss else None,
        "rss_growth_second_half_mb": round(max(half) - min(half), 1) if half else None,
        "tracked_aps": status.tracked_aps,
        "unknown_senders_kept": len(status.unknown_senders),
        "loop_lag_ms_p50": round(statistics.median(lags_ms), 2) if lags_ms else None,
        "loop_lag_ms_p99": round(lags_ms[int(len(lags_ms) * 0.99) - 1], 2) if lags_ms else None,
        "loop_lag_ms_max": round(lags_ms[-1], 2) if lags_ms else None,
        "samples": samples,
    }


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="UDP flood seconds (default 60)")
    parser.add_argument("--pure-seconds", type=float, default=3.0, help="seconds per pure-loop measurement")
    parser.add_argument("--senders", type=int, default=200, help="loopback source addresses (default 200)")
    parser.add_argument("--rate", type=float, default=0.0, help="datagrams/s to send, 0 = as fast as possible")
    parser.add_argument("--no-rate-limit", action="store_true", help="turn the per-sender rate limit off")
    parser.add_argument("--skip-pure", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON document only")
    parser.add_argument("--role", default="bench", choices=["bench", "sender"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "sender":
        run_sender(args.port, args.duration, args.senders, args.rate)
        return 0

    result: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
    if not args.skip_pure:
        result["pure_msgs_per_s"] = {k: round(v) for k, v in bench_pure(args.pure_seconds).items()}
        if not args.json:
            print(f"# {result['date']}  {result['machine']}")
            print("pure loop, one core (messages/s):")
            for k, v in result["pure_msgs_per_s"].items():
                print(f"  {k:<40} {v:>10,}")
    udp = asyncio.run(bench_udp(args.duration, args.senders, args.rate, not args.no_rate_limit))
    result["udp"] = udp
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    c = udp["counters"]
    print(f"UDP flood on loopback, {udp['duration_s']:g} s, {udp['senders']} senders, rate limit {udp['rate_limit']}:")
    print(
        f"  sent {udp['sent']:,} ({udp['sent_per_s']:,}/s), received {c['received']:,}, "
        f"lost in the kernel {udp['lost_in_kernel']:,}"
    )
    print(
        f"  processed {udp['processed_per_s']:,}/s, matched {udp['matched_per_s']:,}/s; "
        f"dropped queue-full {c['dropped_queue_full']:,}, rate-limited {c['dropped_rate_limited']:,}"
    )
    print(
        f"  unknown-sender lines {c['unknown_sender']:,}; kept {udp['unknown_senders_kept']} unknown senders, "
        f"{udp['tracked_aps']} AP states"
    )
    print(
        f"  RSS before {udp['rss_before_mb']} MB, peak {udp['rss_peak_mb']} MB, end {udp['rss_end_mb']} MB, "
        f"growth over the second half {udp['rss_growth_second_half_mb']} MB"
    )
    print(
        f"  event-loop lag p50 {udp['loop_lag_ms_p50']} ms, p99 {udp['loop_lag_ms_p99']} ms, "
        f"max {udp['loop_lag_ms_max']} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
