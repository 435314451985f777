"""The README stays short and the documentation site builds with `mkdocs build --strict` and no warning."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def mkdocs_build(*args: str) -> subprocess.CompletedProcess:
    # mkdocs-material prints an end-of-life notice on every build unless this is set; `make docs` sets it too.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_readme_is_short():
    assert (ROOT / "README.md").stat().st_size < 10_000


def test_docs_build_strict_without_warnings(tmp_path):
    result = mkdocs_build("-d", str(tmp_path / "site"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "WARNING" not in output, output[-3000:]
    assert (tmp_path / "site" / "index.html").is_file()


def test_strict_build_fails_on_a_broken_link(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs)
    with (docs / "data.md").open("a") as page:
        page.write("\nSee [a page that does not exist](no-such-page.md).\n")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    config.update(docs_dir=str(docs), site_dir=str(tmp_path / "site"))
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config))

    result = mkdocs_build("-f", str(tmp_path / "mkdocs.yml"))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "no-such-page.md" in output, output[-3000:]
