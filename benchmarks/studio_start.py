"""How long `clintune studio` takes to serve its page, from the command to the first answer (goal, issue 19: under 10
seconds on 2 cores), and to answer the page's first API call.

Usage: python benchmarks/studio_start.py [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time

import httpx


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from clintune.serve.background import free_port

    runs = tempfile.mkdtemp(prefix="studio-start-")
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "clintune", "studio", "--port", str(port), "--runs", runs],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.02)
        page = time.perf_counter() - started
        clock = time.perf_counter()
        httpx.get(f"http://127.0.0.1:{port}/api/options", timeout=60).raise_for_status()
        options = time.perf_counter() - clock
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(runs, ignore_errors=True)
    result = {"page_seconds": page, "first_api_call_seconds": options, "goal_seconds": 10, "meets_goal": page < 10}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"page served {page:.2f} s after `clintune studio` started; first API call {options:.2f} s; "
              f"goal < 10 s: {'met' if result['meets_goal'] else 'NOT met'}")


if __name__ == "__main__":
    main()
