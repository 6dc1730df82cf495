"""Every page other than the map, in Chromium under the app's Content-Security-Policy: each
loads with no blocked script, style or image, no JavaScript error and no request off-site (the
``page_watch`` fixture fails the test otherwise), and shows what it is for."""

from __future__ import annotations

import pytest
from browser_support import log_in_as


@pytest.mark.parametrize(
    ("path", "selector"),
    [
        ("/account/tokens", "form"),
        ("/admin/users", "table"),
        ("/api/v1/docs", ".swagger-ui .opblock"),
    ],
)
def test_page_works_under_the_policy(page, live, passwords, path, selector):
    log_in_as(page, live, "admin", passwords["admin"])
    response = page.goto(f"{live.url}{path}")
    assert response.status == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.wait_for_selector(selector)


def test_login_page_works_under_the_policy(page, live):
    response = page.goto(f"{live.url}/login")
    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    page.wait_for_selector("input[name=password]")


def test_an_injected_inline_script_is_blocked(page_watch, live):
    """What the policy is for: a script smuggled into the page without the nonce does not run."""
    page, watch = page_watch
    page.goto(f"{live.url}/login")
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__ran = true'; document.body.appendChild(s); }"""
    )
    page.wait_for_function("() => true")
    assert page.evaluate("window.__ran === undefined")
    page.wait_for_timeout(200)  # the violation event is delivered asynchronously
    assert any(v.startswith("script-src") for v in watch.csp), watch.csp
    watch.csp.clear()  # seen and expected
    watch.errors[:] = [e for e in watch.errors if "Content Security Policy" not in e]
