"""Debian's Chromium, headless, through Selenium and chromedriver: the report's page in a real browser."""
from __future__ import annotations

import contextlib
import shutil
import tempfile

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
#: what Chromium needs as root on a closed network (no sandbox, no first-run or update traffic)
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required", "--window-size=1400,1000")

_skip_without_chromium = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="no Chromium with chromedriver "
                                            "installed (Debian: apt-get install chromium chromium-driver)")
#: the browser tests run on one xdist worker (`--dist loadgroup`): one headless Chromium at a time
BROWSER_GROUP = pytest.mark.xdist_group("browser")


def needs_chromium(test):
    """Skips `test` without Chromium and chromedriver, and runs it in the browser group."""
    return BROWSER_GROUP(_skip_without_chromium(test))


@contextlib.contextmanager
def chromium():
    """A headless Chromium driver with a profile of its own, closed and removed after."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (the dev extra)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    profile = tempfile.mkdtemp(prefix="videoad-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
