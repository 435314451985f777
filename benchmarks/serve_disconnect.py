"""Clients that give up: 8 non-streaming requests whose clients disconnect after one second, then a ninth client.
Without cancellation the ninth waits behind 8 full generations; with it, their slots come free as they hang up.

    python benchmarks/serve_disconnect.py [--model tiny-random-llama] [--max-tokens 1000] [--json]

Prints how long the ninth client waited for its answer, and what the server counted (/health): requests cancelled
because their clients went away. Goal: the ninth served within 5 seconds.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import signal
import time

import httpx


def main() -> None:
    from clintune.models.fetch import fetch_model
    from clintune.models.registry import KNOWN_MODELS
    from clintune.privacy import disable_telemetry
    from clintune.serve.background import start_background_server

    disable_telemetry()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny-random-llama")
    parser.add_argument("--max-tokens", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    model = str(fetch_model(args.model, say=lambda _: None)) if args.model in KNOWN_MODELS else args.model
    process, url = start_background_server("--model", model, "--max-tokens", str(args.max_tokens), "--max-queue", "8")
    body = {"prompt": "The patient", "max_tokens": args.max_tokens, "temperature": 1.0}

    def give_up(_):
        try:
            httpx.post(f"{url}/v1/completions", json=body, timeout=1.0)
            return "answered"
        except httpx.TimeoutException:
            return "left"

    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(give_up, range(8)))
        start = time.perf_counter()
        ninth = httpx.post(f"{url}/v1/completions", json={**body, "max_tokens": 16}, timeout=600)
        waited = time.perf_counter() - start
        health = httpx.get(f"{url}/health", timeout=30).json()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    result = {"clients_left": outcomes.count("left"), "ninth_status": ninth.status_code,
              "ninth_waited_s": round(waited, 2), "cancelled": health["cancelled"], "goal_s": 5.0,
              "met": ninth.status_code == 200 and waited <= 5.0}
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['clients_left']} of 8 clients left after 1 s; the server cancelled {result['cancelled']} of their "
          f"requests; the ninth client got HTTP {ninth.status_code} after {waited:.2f} s "
          f"(goal <= 5 s: {'met' if result['met'] else 'NOT met'})")


if __name__ == "__main__":
    main()
