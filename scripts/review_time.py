"""Time a keyboard-only review of the seeds' flags in the real app (Chromium via Playwright).

Extracts the bundled seeds into a fresh results store, serves the review app, and walks
the queue the way a reviewer who agrees with every reading would: open the riskiest
field, press ``a``, land on the next.  Prints the number of flags, keystrokes, and the
app's own time per flag (page load + correction + re-check), which is what the tool
adds to a reviewer's reading time.

    .venv/bin/python scripts/review_time.py
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from nianbao.bundled import SEEDS
from nianbao.cli import main as nianbao
from nianbao.review.app import Settings, create_app


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        assert nianbao(["extract", str(SEEDS), "--out", str(out)]) in (0, 1)
        db = out / "nianbao.db"
        with sqlite3.connect(db) as conn:
            flags = conn.execute("SELECT count(*) FROM fields WHERE risk IS NOT NULL").fetchone()[0]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(Settings(store=db, reviewer="timing")), host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            start = time.perf_counter()
            with page.expect_navigation():
                page.keyboard.press("Enter")  # the riskiest field
            done = 0
            while "/r/" in page.url and done < flags + 5:
                page.wait_for_selector("#value")
                with page.expect_navigation():
                    page.keyboard.press("a")
                done += 1
            seconds = time.perf_counter() - start
            browser.close()
        server.should_exit = True
    print(f"seeds: {flags} flagged fields; {done} reviewed with one key each in {seconds:.1f} s of app time ({1000 * seconds / max(done, 1):.0f} ms a field)")


if __name__ == "__main__":
    main()
