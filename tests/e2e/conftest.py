"""End-to-end tests in a real browser: Debian's Chromium driven by Playwright's sync API
against pytest-django's live server, which also serves the sandbox emulators.

CI must run them: with CI set, a missing Chromium or playwright package fails every test
here. Elsewhere a root user gets Chromium installed from apt; anyone else gets a loud skip.
Pages are found by what a person reads (roles, labels, link and button names), never by
CSS classes or table layout.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client as DjangoClient

try:
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture says so: a failure in CI, a loud skip elsewhere
    expect = None

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
TIMEOUT_MS = 15_000  # a page that has not answered by then is broken, not slow


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _install_chromium() -> str:
    """apt-get as root, non-interactive; returns what went wrong, or ''."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(  # noqa: S603 - fixed commands, no shell
            command, env=env, capture_output=True, text=True, timeout=900, check=False
        )
        if done.returncode:
            return f"`{' '.join(command)}` failed: {done.stderr.strip()[-400:]}"
    return ""


def _what_is_missing() -> list[str]:
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the Python package playwright (dev group; `make test` installs it)")
    if not os.access(CHROMIUM, os.X_OK):
        failure = "apt-get install -y chromium"
        if not in_ci() and os.geteuid() == 0 and shutil.which("apt-get"):
            failure = _install_chromium() or failure
        if not os.access(CHROMIUM, os.X_OK):
            missing.append(f"Chromium at {CHROMIUM} (Debian's `chromium`; {failure})")
    return missing


@pytest.fixture(scope="session")
def chromium() -> str:
    """Chromium's path, or a loud failure in CI / a loud skip elsewhere."""
    missing = _what_is_missing()
    if missing and in_ci():
        pytest.fail("CI must run the browser tests; missing: " + "; ".join(missing), pytrace=False)
    if missing:
        pytest.skip("LOUD SKIP: browser tests need " + "; ".join(missing))
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium):
    """One Chromium per test module.

    Playwright's sync API keeps an event loop running on this thread while the browser is
    open, and Django refuses ORM calls from a thread with a running loop; the tests and
    the live server are synchronous code, so the check is lifted here, and only here
    (a session-wide browser would lift it for the rest of the suite too).
    """
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            yield launched
            launched.close()


@pytest.fixture
def new_context(browser, live_server, settings, request):
    """Make browser contexts (each its own cookies: a person on their own device)."""
    # Links syncfirm builds for outside use point at this server, never at port 8000.
    settings.PUBLIC_BASE_URL = live_server.url
    made = []

    def make():
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        made.append(context)
        return context

    yield make
    if getattr(request.node, "failed_call", False):
        for n, context in enumerate(made):
            for m, page in enumerate(context.pages):
                screenshot(page, f"FAILED-{request.node.name}-{n}-{m}")
    for context in made:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.failed_call = True  # the context fixture keeps a picture of each open page
    return report


def log_in(context, user, live_server) -> None:
    """Give the browser the session of `user` (the login page has its own test)."""
    client = DjangoClient()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )


@pytest.fixture
def accountant_page(new_context, two_firms, live_server):
    """A page in the browser of firm A's accountant, logged in."""
    context = new_context()
    log_in(context, two_firms.accountant_a, live_server)
    return context.new_page()


def screenshot(page, name: str) -> Path:
    """A full-page picture in var/screenshots/ (a test artefact, not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def connect_generated_book(client, sandbox: str, book, name: str):
    """`client` connected to a generated book written into the sandbox, its history imported,
    and no webhooks: each run in a browser test is one the test starts. Returns the written
    book (realm, portal, answer key)."""
    from sandbox.seed_book import write_book
    from sync.customers import run_customer_sync
    from sync.models import RunKind
    from tests.sync_support import connect_written_book

    written = write_book(book, sandbox, name)
    connect_written_book(client, sandbox, written)
    run_customer_sync(client, kind=RunKind.IMPORT, full=True)
    return written
