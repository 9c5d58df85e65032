"""Debian's Chromium, driven by Playwright, as every browser test here launches it: headless, and
with the flags this closed network needs (without the background-networking ones, Chromium's
own connections are refused many at a time). `CHROMIUM` names another executable."""

import os
import shutil

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def executable():
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def launch(playwright):
    return playwright.chromium.launch(executable_path=executable(), headless=True, args=ARGS)
