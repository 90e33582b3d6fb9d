#!/usr/bin/python3
"""The report as a reader's browser shows it: tests/report/check_page.py REPORT_DIR/index.html

Fails (exit 1, one line per problem) unless
  - the HTML is well formed (every non-void element closed, in order) and every SVG figure
    parses as XML;
  - every <img src> and <a href> that is not an external URL names a file that exists;
  - headless Chromium (Debian's chromium) loads the page with no console message;
  - its screenshot is not blank: >= 2 % of the pixels not white, >= 16 distinct colours.
"""
import html.parser, os, subprocess, sys, tempfile, urllib.parse
import xml.etree.ElementTree as ET
from PIL import Image

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
page = os.path.abspath(sys.argv[1])
root = os.path.dirname(page)
problems = []


class Checker(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.refs = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            if a.get(key):
                self.refs.append(a[key])
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            open_tag = self.stack[-1] if self.stack else None
            problems.append(f"{page}: line {self.getpos()[0]}: </{tag}> closes {open_tag}")
            return
        self.stack.pop()


checker = Checker()
with open(page, encoding="utf-8") as f:
    checker.feed(f.read())
checker.close()
for tag, (line, _) in checker.stack:
    problems.append(f"{page}: <{tag}> opened at line {line} is never closed")

for ref in checker.refs:
    url = urllib.parse.urlparse(ref)
    if url.scheme in ("http", "https", "mailto"):
        problems.append(f"{page}: external reference {ref} (the report must be self-contained)")
        continue
    target = os.path.normpath(os.path.join(root, urllib.parse.unquote(url.path)))
    if not os.path.exists(target):
        problems.append(f"{page}: {ref} does not resolve ({target} missing)")
    elif target.endswith(".svg"):
        try:
            ET.parse(target)
        except ET.ParseError as e:
            problems.append(f"{target}: not well-formed XML: {e}")

with tempfile.TemporaryDirectory() as tmp:
    shot = os.path.join(tmp, "page.png")
    run = subprocess.run(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                          "--v=0", f"--user-data-dir={tmp}/profile", "--window-size=1400,3000",
                          f"--screenshot={shot}", "file://" + page],
                         capture_output=True, text=True, timeout=120)
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    problems += [f"{page}: console: {line}" for line in console]
    if run.returncode != 0 or not os.path.exists(shot):
        problems.append(f"{page}: chromium failed (exit {run.returncode}): {run.stderr.strip().splitlines()[-1:]}")
    else:
        image = Image.open(shot).convert("RGB")
        pixels = list(image.getdata())
        inked = sum(1 for p in pixels if p != (255, 255, 255)) / len(pixels)
        colours = len(set(pixels))
        print(f"screenshot {image.size[0]}x{image.size[1]}: {100 * inked:.1f} % not white, {colours} colours")
        if inked < 0.02 or colours < 16:
            problems.append(f"{page}: the screenshot is blank ({100 * inked:.2f} % not white, {colours} colours)")

for p in problems:
    print(p)
print(f"check_page: {len(checker.refs)} references, {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
