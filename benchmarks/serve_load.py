"""Load on `clintune serve`: N concurrent clients against the tiny model on 127.0.0.1 for a bounded time.

Two phases against one real server (`--max-queue 8`): one client alone (the baseline), then N clients at once, more
than the queue holds, so the server must answer some with 429 and none with 5xx. Each request is a chat completion of
16 new tokens; a client told 429 waits the Retry-After the server sends, as the openai client does. Printed:
requests, requests/s, p50/p95 latency of the answered requests, 4xx/429/5xx counts, whether the server still answers
/health, and the ratio concurrent rps / single-client rps (the server generates one request at a time, so the ratio
shows what queueing costs or gains, not batching).
Goal (issue 6): zero 5xx, and no crash under a burst larger than the queue.

Usage: python benchmarks/serve_load.py [--clients 16] [--seconds 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import threading
import time

import httpx

BODY = {"messages": [{"role": "user", "content": "Summarise: 67M with CAP on ceftriaxone, improving."}],
        "max_tokens": 16, "temperature": 0}


def load(url: str, clients: int, seconds: float) -> dict:
    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client():
        with httpx.Client(timeout=120) as http:
            while time.perf_counter() < stop_at:
                start = time.perf_counter()
                retry_after = 0.0
                try:
                    response = http.post(f"{url}/v1/chat/completions", json=BODY)
                    status = response.status_code
                    retry_after = float(response.headers.get("retry-after", 0))
                except httpx.TransportError:
                    status = 599  # the connection itself failed: counted with the 5xx
                with lock:
                    results.append((status, time.perf_counter() - start))
                time.sleep(retry_after)  # as the openai client does on a 429

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ok = sorted(latency for status, latency in results if status == 200)
    return {"requests": len(results), "answered": len(ok), "rps": len(ok) / elapsed,
            "p50_ms": 1000 * statistics.median(ok) if ok else None,
            "p95_ms": 1000 * ok[int(0.95 * (len(ok) - 1))] if ok else None,
            "status_429": sum(s == 429 for s, _ in results),
            "status_4xx": sum(400 <= s < 500 for s, _ in results),
            "status_5xx": sum(s >= 500 for s, _ in results)}


def main() -> None:
    from clintune.privacy import disable_telemetry

    disable_telemetry()  # before any HF library loads: they read their switches at import time
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from clintune.models.fetch import fetch_model
    from clintune.serve.background import start_background_server

    process, url = start_background_server("--model", str(fetch_model("tiny-random-llama", say=lambda _: None)),
                                           "--max-queue", "8", stderr=subprocess.DEVNULL)
    try:
        single = load(url, 1, args.seconds / 2)
        burst = load(url, args.clients, args.seconds)
        alive = httpx.get(f"{url}/health", timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)
    result = {**burst, "clients": args.clients, "alive": alive, "single_client_rps": single["rps"],
              "ratio_vs_single_client": burst["rps"] / single["rps"] if single["rps"] else None}
    if args.json:
        print(json.dumps(result))
        return
    print(f"1 client: {single['rps']:.1f} req/s, p50 {single['p50_ms']:.0f} ms")
    print(f"{args.clients} clients for {args.seconds:.0f} s: {burst['requests']} requests, {burst['answered']} "
          f"answered, {burst['rps']:.1f} req/s ({result['ratio_vs_single_client']:.2f}x one client), p50 "
          f"{burst['p50_ms']:.0f} ms, p95 {burst['p95_ms']:.0f} ms; 429: {burst['status_429']}, other 4xx: "
          f"{burst['status_4xx'] - burst['status_429']}, 5xx: {burst['status_5xx']}; server alive: {alive}")
    print(f"goal zero 5xx and alive: {'met' if burst['status_5xx'] == 0 and alive else 'NOT met'}")


if __name__ == "__main__":
    main()
