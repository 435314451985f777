"""The screenshots in docs/studio/: every tab of clintune studio in English and Korean, on the demo's real run.

It copies a finished demo run (`clintune demo --out RUN`, evaluated) into a fresh runs folder, starts the studio on
it, and drives Debian's Chromium with Playwright through the five tabs: a generated set checked, SmolLM2 planned on a
T4 with a suggestion applied, the run's loss curve, its evaluation, and one question answered by base and tuned.

Usage: python benchmarks/studio_screenshots.py RUN [--out docs/studio]
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import tempfile
from pathlib import Path

NOTE = ("PREOPERATIVE DIAGNOSIS: Right inguinal hernia.\nPROCEDURE: Right inguinal hernia repair with mesh.\n"
        "ANESTHESIA: General.\nESTIMATED BLOOD LOSS: 10 mL.\nThe patient tolerated the procedure well and was taken to "
        "the recovery room in stable condition. He will follow up in the clinic in 2 weeks.")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path, help="a finished, evaluated demo run")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "docs" / "studio")
    args = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright

    from clintune.serve.background import start_background_server

    runs = Path(tempfile.mkdtemp(prefix="studio-shots-"))
    shutil.copytree(args.run, runs / args.run.name)
    process, url = start_background_server("--runs", str(runs), command="studio", ready="/api/options")
    expect.set_options(timeout=300_000)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.goto(url)
            expect(page.locator("body[data-ready=true]")).to_be_attached()
            for lang in ("en", "ko"):
                page.select_option("#lang", lang)
                tour(page, args.run.name, args.out, lang, expect)
            browser.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
        shutil.rmtree(runs, ignore_errors=True)


def tour(page, run: str, out: Path, lang: str, expect) -> None:
    from PIL import Image

    def shot(name: str) -> None:
        path = out / f"{name}-{lang}.png"
        page.screenshot(path=str(path), full_page=True)
        Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)
        print(f"wrote {path}")

    page.click("#tabs button[data-tab=data]")
    page.fill("#gen-n", "200")
    page.fill("#gen-plant", "0.2")
    page.click("#gen-run")
    expect(page.locator("#data-path")).to_have_value(re.compile(r"generated-200-seed0\.jsonl$"))
    page.click("#data-check")
    expect(page.locator("#data-preview .tokens").first).to_be_visible()
    shot("data")
    page.click("#tabs button[data-tab=memory]")
    page.select_option("#mem-method", "full")
    page.fill("#mem-seq", "2048")
    page.fill("#mem-batch", "16")
    page.select_option("#mem-gpu", "t4")
    page.click("#mem-plan")
    page.locator("#memory-suggestions button.apply").first.click()
    expect(page.locator("#memory-verdict.ok")).to_be_visible()
    shot("memory")
    page.click("#tabs button[data-tab=train]")
    page.locator(f"#runs-list tr[data-run='{run}'] button.show").click()
    expect(page.locator("#loss-chart")).to_be_visible()
    shot("train")
    page.click("#tabs button[data-tab=eval]")
    page.select_option("#eval-run", run)
    page.click("#eval-show")
    expect(page.locator("#eval-result table")).to_be_visible()
    shot("eval")
    page.click("#tabs button[data-tab=chat]")
    page.select_option("#chat-run", run)
    page.fill("#chat-note", NOTE)
    page.fill("#chat-question", "What was the estimated blood loss?")
    page.click("#chat-ask")
    expect(page.locator("#chat-tuned[data-done=true]")).to_be_attached()
    page.locator("#tab-chat details").evaluate("node => node.open = true")
    shot("chat")


if __name__ == "__main__":
    main()
