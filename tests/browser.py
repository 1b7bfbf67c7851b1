"""Headless Chromium for the report's tests: lay a page out at a given width and list what is
overlapping or clipped, as a person would see it.

Debian's ``chromium`` (``make browser`` installs it; Playwright's own browser download is not
reachable from the project's machines) is run with ``--dump-dom``. Each page is a copy of the
report with one extra script (allowed by its hash in the page's own Content-Security-Policy,
which otherwise stays as it is); it runs when the page has loaded, in a frame of exactly the
wanted width (Chromium's headless window is never narrower than 500 px), and posts what it
found to the frame's parent, whose DOM Chromium prints.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["CHROMIUM", "LAYOUT_CHECK", "layout_problems", "run_in_pages"]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

#: What counts as broken in the episode tables (``table.ep``, ``table.ex``) and timelines.
LAYOUT_CHECK = r"""
  const out = [], doc = document.documentElement, vw = doc.clientWidth;
  const shown = e => getComputedStyle(e).display !== "none" && e.getClientRects().length > 0;
  const name = c => `${c.closest("table").className} row ${c.parentElement.rowIndex} ` +
    `cell ${c.cellIndex} "${c.textContent.trim().slice(0, 40)}"`;
  const meet = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 &&
    Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  const texts = el => {
    const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), found = [];
    while (walk.nextNode()) if (walk.currentNode.textContent.trim()) found.push(walk.currentNode);
    return found;
  };
  if (doc.scrollWidth > vw + 1) out.push(`page is ${doc.scrollWidth}px wide in ${vw}px`);
  const tables = [...document.querySelectorAll("table.ep, table.ex")];
  for (const t of tables) {
    const box = t.getBoundingClientRect();
    if (box.left < -1 || box.right > vw + 1) out.push(`${t.className} table past the window`);
    for (const row of t.rows) {
      const cells = [...row.cells].filter(shown), rects = cells.map(c => c.getBoundingClientRect());
      cells.forEach((c, i) => {
        if (c.scrollWidth > c.clientWidth + 1) out.push("clipped: " + name(c));
        if (rects[i].right > vw + 1) out.push("past the window: " + name(c));
        for (const node of texts(c)) {
          const range = document.createRange();
          range.selectNodeContents(node);
          const lines = [...range.getClientRects()].filter(q => q.width >= 1);
          for (const q of lines) {
            const r = rects[i];
            if (q.left < r.left - 1 || q.right > r.right + 1 || q.top < r.top - 1 ||
                q.bottom > r.bottom + 1) { out.push("text outside its cell: " + name(c)); break; }
          }
          const short = c.tagName === "TH" || c.classList.contains("k");
          if (short && new Set(lines.map(q => Math.round(q.top))).size > 1)
            out.push("broken over lines: " + name(c));
        }
        for (let j = i + 1; j < cells.length; j++)
          if (meet(rects[i], rects[j])) out.push(`overlap: ${name(c)} / ${name(cells[j])}`);
      });
    }
  }
  for (const axis of document.querySelectorAll(".ticks")) {
    const labels = [...axis.children].filter(shown).map(s => s.getBoundingClientRect());
    labels.forEach((r, i) => {
      if (r.right > vw + 1 || r.left < -1) out.push("axis label past the window");
      if (i && labels[i - 1].right > r.left - 2) out.push("axis labels overlap");
    });
  }
  return {tables: tables.length, problems: out};
"""

_FRAME = """<!DOCTYPE html><html><body style="margin:0"><pre id="result"></pre>{frames}
<script>const found = [];
addEventListener("message", e => {{ found.push(JSON.parse(e.data));
  if (found.length === {n}) document.getElementById("result").textContent =
    JSON.stringify(found.sort((a, b) => a.page - b.page)); }});</script></body></html>"""


def _allowing(page_html: str, script: str) -> str:
    """The page with ``script`` added to its Content-Security-Policy by its hash, so the page's
    own policy (and its own script's hash) is what the browser applies to everything else."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    source = f"'sha256-{digest}'"
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page_html)
    if meta is None:
        return page_html
    policy = meta.group(1)
    if "script-src" in policy:
        policy = policy.replace("script-src", f"script-src {source}", 1)
    else:
        policy = policy.rstrip("; ") + f"; script-src {source};"
    return page_html[: meta.start(1)] + policy + page_html[meta.end(1) :]


def run_in_pages(pages, script: str, width: int, height: int = 900) -> list[dict]:
    """Open each page ``width`` pixels wide in one Chromium run; return what ``script`` returns.

    ``script`` is the body of a function run when a page has loaded; it returns an object,
    collected per page with ``"page": i`` added (``{"error": message}`` if it threw). The pages are not changed: copies get the
    script and its hash in their Content-Security-Policy.
    """
    if CHROMIUM is None:
        raise RuntimeError("no chromium on PATH; 'make browser' installs Debian's")
    pages = [pages] if isinstance(pages, (str, Path)) else list(pages)
    with tempfile.TemporaryDirectory() as work:
        frames = []
        for i, page in enumerate(pages):
            code = (
                'addEventListener("load", () => { let found; try { found = (() => {'
                + script
                + "})(); } catch (e) { found = {error: String(e)}; }"
                f'parent.postMessage(JSON.stringify({{page: {i}, ...found}}), "*"); }});'
            )
            text = _allowing(Path(page).read_text(encoding="utf-8"), code)
            copy = Path(work) / f"page{i}.html"
            copy.write_text(text.replace("</body>", f"<script>{code}</script></body>"), "utf-8")
            frames.append(
                f'<iframe src="{copy.as_uri()}" style="width:{width}px;height:{height}px;'
                'border:0;display:block"></iframe>'
            )
        frame = Path(work) / "frame.html"
        frame.write_text(_FRAME.format(frames="".join(frames), n=len(pages)), encoding="utf-8")
        dom = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={work}/profile",
                f"--window-size={max(width, 500) + 20},{height}",
                "--virtual-time-budget=10000",
                "--dump-dom",
                frame.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        ).stdout
    found = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
    if not found or not found.group(1):
        raise RuntimeError("the script did not report from every page; a page did not load")
    return json.loads(html.unescape(found.group(1)))


def layout_problems(pages, width: int, height: int = 900) -> list[dict]:
    """Lay each page out ``width`` pixels wide; per page ``{"page", "tables", "problems"}``:
    the number of episode tables measured and what was clipped or overlapping in them."""
    return run_in_pages(pages, LAYOUT_CHECK, width, height)
