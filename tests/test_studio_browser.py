"""The studio in a real headless Chromium (Debian's, driven by Playwright): the journey a user takes through the page.

Without Chromium these tests skip with one line saying how to enable them; CI sets CLINTUNE_REQUIRE_BROWSER=1 so a
missing browser fails instead. With CLINTUNE_SCREENSHOTS=DIR the journey also saves a screenshot of each tab in
both languages there (docs/studio/ holds the ones the docs show).
"""

import json
import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Flags for a machine with no outside network and no GPU: without the background-networking ones Chromium keeps
# opening connections that are refused.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

if CHROMIUM is None:
    if os.environ.get("CLINTUNE_REQUIRE_BROWSER") == "1":
        raise RuntimeError("CLINTUNE_REQUIRE_BROWSER=1 but no Chromium is installed (apt-get install chromium)")
    pytest.skip("no Chromium here: install it (apt-get install chromium) to run the studio's browser tests",
                allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402 - only where a browser exists

expect.set_options(timeout=120_000)  # how long a check waits for the page, not a time limit on clintune


@pytest.fixture(scope="module")
def page(studio):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(120_000)  # a wait for the page, not a time limit on clintune
        yield context.new_page()
        browser.close()


def screenshot(page, name: str) -> None:
    folder = os.environ.get("CLINTUNE_SCREENSHOTS")
    if folder:
        from PIL import Image

        Path(folder).mkdir(parents=True, exist_ok=True)
        path = Path(folder) / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        Image.open(path).convert("RGB").quantize(colors=128).save(path, optimize=True)  # a fifth of the bytes


def test_data_and_memory_in_english_then_korean(studio, page):
    url, runs = studio
    page.goto(url)
    expect(page.locator("body[data-ready=true]")).to_be_attached()
    expect(page.locator("#tabs button[data-tab=data]")).to_have_text("Data")

    # Generate a small set with planted identifiers, then check it: validation, masked scan, stats, preview.
    page.fill("#gen-n", "40")
    page.fill("#gen-plant", "0.5")
    page.click("#gen-run")
    expect(page.locator("#data-path")).to_have_value(re.compile(r"generated-40-seed0\.jsonl$"))
    page.click("#data-check")
    expect(page.locator("#data-validation")).to_contain_text("40 rows: usable for training")
    expect(page.locator("#data-scan table")).to_be_visible()
    expect(page.locator("#data-scan")).to_contain_text("shown masked")
    expect(page.locator("#data-stats img.chart")).to_be_visible()
    expect(page.locator("#data-preview .tokens .eos").first).to_be_visible()
    expect(page.locator("#data-commands")).to_contain_text("clintune data scan-phi")
    path = page.input_value("#data-path")
    rows = [json.loads(line) for line in Path(path).read_text().splitlines()]
    shown = page.locator("#data-scan").inner_text()
    for truth in json.loads(Path(f"{path}.identifiers.json").read_text())["identifiers"]:
        assert rows[truth["row"]][truth["column"]][truth["start"]:truth["end"]] not in shown
    screenshot(page, "data-en")

    # Plan SmolLM2 on a T4: too big as asked; one click applies a suggestion and the plan fits.
    page.click("#tabs button[data-tab=memory]")
    page.select_option("#mem-method", "full")
    page.fill("#mem-seq", "2048")
    page.fill("#mem-batch", "16")
    page.select_option("#mem-gpu", "t4")
    page.click("#mem-plan")
    expect(page.locator("#memory-verdict")).to_contain_text("Does not fit on t4")
    page.locator("#memory-suggestions li", has_text="batch size 1").locator("button.apply").click()
    expect(page.locator("#memory-verdict")).to_contain_text("Fits on t4")
    expect(page.locator("#mem-batch")).to_have_value("1")
    expect(page.locator("#memory-result img.chart")).to_be_visible()
    expect(page.locator("#memory-commands")).to_contain_text("--batch-size 1")
    screenshot(page, "memory-en")
    page.click("#tabs button[data-tab=train]")  # the suggestion is in the training form too
    expect(field(page, "train.batch_size")).to_have_value("1")
    expect(field(page, "train.grad_accum")).to_have_value("64")
    expect(page.locator("#train-command")).to_contain_text("train.batch_size=1 train.grad_accum=64")
    page.click("#tabs button[data-tab=memory]")

    # The same page in Korean, results included, and it stays Korean after a reload.
    page.select_option("#lang", "ko")
    expect(page.locator("#tabs button[data-tab=memory]")).to_have_text("메모리")
    expect(page.locator("#memory-verdict")).to_contain_text("들어갑니다")
    screenshot(page, "memory-ko")
    page.click("#tabs button[data-tab=data]")
    expect(page.locator("#data-validation")).to_contain_text("학습에 쓸 수 있습니다")
    screenshot(page, "data-ko")
    page.reload()
    expect(page.locator("#tabs button[data-tab=data]")).to_have_text("데이터")


def test_a_bad_file_gives_the_one_line_error_in_the_page(studio, page):
    url, runs = studio
    page.goto(url)
    expect(page.locator("body[data-ready=true]")).to_be_attached()
    page.set_input_files("#data-file", files=[{"name": "export.csv", "mimeType": "text/csv",
                                               "buffer": b"note;question;answer\nPt seen.;Why?;BPH.\n"}])
    expect(page.locator("#data-path")).to_have_value(re.compile(r"export\.csv$"))
    page.click("#data-check")
    error = page.locator("#data-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("the columns are separated by ';', not commas")
    assert "Traceback" not in error.inner_text() and len(error.inner_text().splitlines()) == 1
    assert Path(page.input_value("#data-path")).parent == runs / "studio-data"


def field(page, key: str):
    return page.locator(f"[id='field-{key}']")


def test_train_stop_resume_evaluate_and_chat_in_the_page(studio, page, tiny_model_dir):
    url, runs = studio
    page.goto(url)
    expect(page.locator("body[data-ready=true]")).to_be_attached()
    page.select_option("#lang", "en")
    page.click("#tabs button[data-tab=train]")
    expect(field(page, "model.name")).to_have_value("smollm2-135m-instruct")  # the demo recipe, loaded
    settings = {"name": "long", "model.name": str(tiny_model_dir), "data.synthetic_rows": "400", "data.sample": "64",
                "data.test_size": "2", "lora.top_layers": "", "train.batch_size": "4", "train.save_steps": "2",
                "train.max_steps": "100000"}
    for key, value in settings.items():
        field(page, key).fill(value)
    expect(page.locator("#train-command")).to_contain_text("train.max_steps=100000")
    expect(page.locator("#train-yaml")).to_contain_text("max_steps: 100000")
    field(page, "train.lr").fill("fast")
    expect(page.locator("#train-error")).to_contain_text("bad value for 'train.lr'")
    field(page, "train.lr").fill("0.001")
    expect(page.locator("#train-error")).to_be_hidden()

    # Start; the loss chart grows; stop; resume; it grows past where it stopped; stop again.
    page.click("#train-start")
    row = page.locator("#runs-list tr", has_text="long-")
    expect(row).to_contain_text("training")
    page.reload()  # the page closed and opened again: the run went on without it
    expect(page.locator("body[data-ready=true]")).to_be_attached()
    page.click("#tabs button[data-tab=train]")
    expect(row).to_contain_text("training")
    row.locator("button.show").click()
    chart = page.locator("#loss-chart")
    expect(chart).to_have_attribute("data-points", re.compile(r"^([4-9]|\d\d+)$"))
    screenshot(page, "train-en")
    row.locator("button.stop").click()
    expect(row).to_contain_text("interrupted")
    stopped_at = int(chart.get_attribute("data-points"))
    row.locator("button.resume").click()
    expect(row).to_contain_text("training")
    expect(chart).to_have_attribute("data-points", re.compile(r"^\d+$"))
    page.wait_for_function(f"Number(document.querySelector('#loss-chart').dataset.points) > {stopped_at + 2}")
    row.locator("button.stop").click()
    expect(row).to_contain_text("interrupted")
    expect(page.locator("#train-commands")).to_contain_text("--resume")

    # A short run to the end, then evaluate it, write its report, and chat with it.
    for key, value in {**settings, "name": "short", "train.max_steps": "6", "train.lr": "0.05"}.items():
        field(page, key).fill(value)
    page.click("#train-start")
    short = page.locator("#runs-list tr", has_text="short-")
    expect(short).to_contain_text("finished")
    page.click("#tabs button[data-tab=eval]")
    page.select_option("#eval-run", short.get_attribute("data-run"))
    page.fill("#eval-tokens", "4")
    page.fill("#eval-limit", "4")
    page.click("#eval-start")
    expect(page.locator("#eval-result table")).to_be_visible()
    expect(page.locator("#eval-result")).to_contain_text("all tasks")
    page.click("#eval-report")
    expect(page.locator("#report-link")).to_be_visible()
    screenshot(page, "eval-en")
    page.click("#tabs button[data-tab=chat]")
    page.select_option("#chat-run", short.get_attribute("data-run"))
    page.fill("#chat-note", "Pt admitted with CAP, treated with ceftriaxone, then switched to amoxicillin.")
    page.fill("#chat-question", "Which antibiotic was the patient switched to?")
    page.fill("#chat-tokens", "8")
    page.click("#chat-ask")
    expect(page.locator("#chat-base[data-done=true]")).to_be_attached()
    expect(page.locator("#chat-tuned[data-done=true]")).to_be_attached()
    assert "[Discharge Summary Begin]" in page.locator("#chat-prompt").text_content()
    screenshot(page, "chat-en")

    # The same tabs in Korean.
    page.select_option("#lang", "ko")
    expect(page.locator("#chat-ask")).to_have_text("둘 다에게 묻기")
    screenshot(page, "chat-ko")
    page.click("#tabs button[data-tab=eval]")
    expect(page.locator("#eval-result")).to_contain_text("전체 과제")
    screenshot(page, "eval-ko")
    page.fill("#eval-judge", "http://127.0.0.1:9/v1")  # a judge without its model: the studio's error, in Korean
    page.click("#eval-start")
    expect(page.locator("#eval-error")).to_have_text("오류: 심사 모델에는 엔드포인트와 모델이 모두 필요합니다. "
                                                      "둘 다 채우거나 둘 다 비우세요")
    page.fill("#eval-judge", "")
    page.click("#tabs button[data-tab=train]")
    expect(page.locator("#train-start")).to_have_text("학습 시작")
    expect(row).to_contain_text("중단됨")
    screenshot(page, "train-ko")
