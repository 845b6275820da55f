"""The review app in a real browser: Debian's Chromium, driven by Playwright, over real HTTP."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Dialog, Page, sync_playwright

from nianbao.bundled import GOLD, SEEDS
from nianbao.cli import main as nianbao
from nianbao.eval.render import layout_from_document, render_pdf
from nianbao.extract.load import load
from nianbao.review.app import Settings, create_app

SEED = "000_25a82b73f95a5995"
WRONG_KEY = "t3.new.natural_person"  # printed one too high in the PDF: its row and column sums fail
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "review.png"


def _inputs(folder: Path) -> int:
    """A text-layer PDF whose table 三 has one wrong cell, and a mirror page with markup in its title."""
    gold = json.loads((GOLD / f"{SEED}.json").read_text(encoding="utf-8"))
    fields = dict(gold["fields"])
    truth = int(fields[WRONG_KEY])
    fields[WRONG_KEY] = truth + 1
    render_pdf(layout_from_document(load(SEEDS / f"{SEED}.txt"), fields, fields["meta.template"]), folder / "broken.pdf")
    text = (SEEDS / f"{SEED}.txt").read_text(encoding="utf-8")
    (folder / "hijacked.txt").write_text('<script>alert("owned")</script><img src=x onerror=alert(1)>' + text, encoding="utf-8")
    return truth


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, int]]:
    root = tmp_path_factory.mktemp("review")
    docs = root / "docs"
    docs.mkdir()
    truth = _inputs(docs)
    assert nianbao(["extract", str(docs), "--out", str(root / "out")]) == 0
    db = root / "out" / "nianbao.db"
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(store=db, reviewer="tester")), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}", db, truth
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    assert Path(CHROMIUM).exists(), "Chromium is missing: scripts/setup.sh installs Debian's chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        dialogs: list[str] = []

        def seen(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        pg.on("dialog", seen)
        pg.dialogs = dialogs  # type: ignore[attr-defined]
        yield pg
        browser.close()


def _report_id(db: Path, name: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT id FROM reports WHERE source LIKE ?", (f"%{name}",)).fetchone()[0])


def test_a_flagged_cell_is_corrected_by_keyboard_beside_its_page_image(served: tuple[str, Path, int], page: Page) -> None:
    url, db, truth = served
    page.goto(url + "/")
    # The queue lists the broken cell among the riskiest (a failed relation).
    row = page.locator("#queue tr.item", has_text=WRONG_KEY).filter(has_text="broken.pdf")
    assert row.count() == 1
    assert "failed relation" in row.inner_text()
    row.locator("a").click()
    page.wait_for_selector("#source-image")
    # The page image, with the cell's box drawn and its text read off the page.
    assert page.eval_on_selector("#source-image", "img => img.complete && img.naturalWidth > 100")
    box = [int(v) for v in (page.get_attribute("#source-image", "data-box") or "").split(",")]
    size = page.eval_on_selector("#source-image", "img => [img.naturalWidth, img.naturalHeight]")
    assert len(box) == 4 and 0 <= box[0] < box[2] <= size[0] and 0 <= box[1] < box[3] <= size[1]
    assert str(truth + 1) in page.inner_text(".seen")
    assert page.locator(".check.failed").count() >= 1
    assert page.locator("#grid td.this.failing input").input_value() == str(truth + 1)
    if os.environ.get("NIANBAO_SCREENSHOT"):
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=False)
    # Keyboard only: type the number (it lands in the value box) and Enter.
    page.keyboard.press("Escape")
    page.keyboard.type(str(truth))
    page.keyboard.press("Enter")
    page.wait_for_selector("#msg")
    assert "cleared" in page.inner_text("#msg")

    rid = _report_id(db, "broken.pdf")
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        fix = conn.execute("SELECT * FROM corrections WHERE report_id = ? AND key = ?", (rid, WRONG_KEY)).fetchone()
        machine = conn.execute("SELECT value FROM fields WHERE report_id = ? AND key = ?", (rid, WRONG_KEY)).fetchone()
        current = conn.execute("SELECT value, method FROM current_fields WHERE report_id = ? AND key = ?", (rid, WRONG_KEY)).fetchone()
        failed = conn.execute("SELECT name FROM checks WHERE report_id = ? AND current = 1 AND outcome = 'failed'", (rid,)).fetchall()
        passed = conn.execute("SELECT count(*) FROM checks WHERE report_id = ? AND current = 1 AND origin = 'recheck' AND outcome = 'passed'", (rid,)).fetchone()[0]
    # The audit keeps the machine's value beside the new one, with who, when and how.
    assert (json.loads(fix["machine_value"]), json.loads(fix["value"]), fix["reviewer"]) == (truth + 1, truth, "tester")
    assert fix["at"] and fix["via"] == "review"
    assert json.loads(machine["value"]) == truth + 1  # never overwritten
    assert (json.loads(current["value"]), current["method"]) == (truth, "human")
    # The checks ran again on the corrected table: every relation holds now.
    assert failed == [] and passed > 0


def test_impossible_input_is_refused_with_a_message(served: tuple[str, Path, int], page: Page) -> None:
    url, db, _ = served
    rid = _report_id(db, "broken.pdf")
    page.goto(f"{url}/r/{rid}/f/t3.new.commercial")
    page.fill("#new-value", "十一")
    page.keyboard.press("Enter")
    page.wait_for_selector("#error")
    assert "t3.new.commercial" in page.url
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM corrections WHERE report_id = ? AND key = 't3.new.commercial'", (rid,)).fetchone()[0] == 0


def test_markup_in_a_hijacked_title_renders_as_text(served: tuple[str, Path, int], page: Page) -> None:
    url, db, _ = served
    rid = _report_id(db, "hijacked.txt")
    page.goto(f"{url}/r/{rid}/f/meta.year")
    text = page.inner_text("#source")
    assert '<script>alert("owned")</script>' in text
    assert page.evaluate("document.querySelectorAll('script').length") == 1  # only the app's own
    assert page.evaluate("document.querySelectorAll('img[onerror]').length") == 0
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_a_form_from_another_site_is_refused(served: tuple[str, Path, int]) -> None:
    import urllib.error
    import urllib.request

    url, db, _ = served
    rid = _report_id(db, "broken.pdf")
    req = urllib.request.Request(f"{url}/r/{rid}/f/t3.new.research", data=b"action=set&value=5", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 403


def test_a_token_guards_an_app_bound_beyond_loopback(served: tuple[str, Path, int]) -> None:
    import urllib.error
    import urllib.request

    from nianbao.review.security import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and not is_loopback("0.0.0.0")
    _, db, _ = served
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(store=db, reviewer="tester", token="s3cret")), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/")
        assert err.value.code == 401
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/?token=wrong")

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: object, **kwargs: object) -> None:
                return None

        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as moved:
            opener.open(f"http://127.0.0.1:{port}/?token=s3cret")
        assert moved.value.code == 303
        cookie = moved.value.headers["set-cookie"].split(";")[0]
        page = urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Cookie": cookie}))
        assert page.status == 200 and "Review queue" in page.read().decode()
    finally:
        server.should_exit = True
        thread.join(10)


def test_the_table_grid_saves_several_cells_at_once_and_says_what_fails(served: tuple[str, Path, int], page: Page) -> None:
    url, db, _ = served
    rid = _report_id(db, "hijacked.txt")
    page.goto(f"{url}/r/{rid}/f/t3.new.total")
    total = page.locator("input[name='cell:t3.new.total']")
    commercial = page.locator("input[name='cell:t3.new.commercial']")
    before_total, before_commercial = int(total.input_value()), int(commercial.input_value())
    # Move one application from 商业企业 to 总计's other operand: the row still sums, the columns do not.
    commercial.fill(str(before_commercial + 1))
    total.fill(str(before_total + 1))
    total.press("Enter")
    page.wait_for_selector("#msg")
    assert "2 cells saved" in page.inner_text("#msg") and "now failing" in page.inner_text("#msg")
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT key, value, via FROM corrections WHERE report_id = ? AND via = 'review-grid' ORDER BY key", (rid,)).fetchall()
    assert [(k, json.loads(v)) for k, v, _ in rows] == [("t3.new.commercial", before_commercial + 1), ("t3.new.total", before_total + 1)]
