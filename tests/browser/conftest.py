"""Browser tests: the web interface used as a person uses it, in Debian's headless Chromium driven by Selenium
(/usr/bin/chromium, /usr/bin/chromedriver: `apt-get install chromium chromium-driver`), against the whole system
(`aq up`: the six services and the gateway) on the real RabbitMQ and PostgreSQL.

Screenshots go to AQ_SCREENSHOT_DIR when it is set (docs/screenshots/ holds reviewed ones), else to a temporary
directory whose path the test prints. Without Chromium the tests are skipped, except under CI (CI=true), where a
missing browser is a failure: the issue is done only when these pass in CI."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.broker import temporary_vhost
from tests.support.cluster import REPO, Cluster, wait_for
from tests.support.postgres import temporary_databases

PASSWORD = "Browser-test-pw-2024"
CHROMIUM = os.environ.get("AQ_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("AQ_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _require_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]
    try:
        import selenium  # noqa: F401  (only: is it installed?)
    except ImportError:
        missing.append("the selenium package (pip install -e '.[test]')")
    if missing:
        message = f"browser tests need {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class College:
    """The running system, and accounts for the people the tests play."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.url = cluster.gateway_url
        self.accounts: dict[str, str] = {}

    def account(self, staff_id: str) -> str:
        """A sign-in for this staff member of the roster (created once, with `aq users add`)."""
        if staff_id not in self.accounts:
            username = "u-" + staff_id.lower().encode("utf-8").hex()[:16] if not staff_id.isascii() \
                else staff_id.lower()
            result = subprocess.run([sys.executable, "-m", "aq_cli.main", "users", "add", username, "--staff", staff_id,
                                     "--password-stdin"], input=PASSWORD + "\n", env=self.cluster.env, cwd=REPO,
                                    capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            self.accounts[staff_id] = username
        return self.accounts[staff_id]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/api/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def college(tmp_path_factory):
    _require_browser()
    with temporary_vhost() as uri, temporary_databases() as db:
        # The warning policy's default: computed warnings wait for academic affairs to confirm them. Counselor
        # lists are on, issued when the test asks (`aq advising lists --issue`) rather than by their timer.
        cluster = Cluster(tmp_path_factory.mktemp("aq-home"), uri, db, review=True, extra_env={
            "AQ_COUNSELOR_LISTS": "on", "AQ_COUNSELOR_LIST_SETTLE_SECONDS": "0.1",
            "AQ_COUNSELOR_LIST_TICK_SECONDS": "3600"})
        cluster.up()
        try:
            wait_for(lambda: _answers(cluster.gateway_url), timeout=60, message="the gateway to answer HTTP")
            cluster.import_sample_roster()
            yield College(cluster)
        finally:
            cluster.down()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    configured = os.environ.get("AQ_SCREENSHOT_DIR")
    directory = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {directory}")
    return directory


@pytest.fixture
def browser(college, screenshots):
    from tests.browser.pages import Browser
    session = Browser.start(CHROMIUM, CHROMEDRIVER, college.url, screenshots)
    try:
        yield session
    finally:
        session.quit()
