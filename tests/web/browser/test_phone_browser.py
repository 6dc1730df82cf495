"""The grid worker's phone page (/m/) in headless Chromium at 390 x 844: the tasks with their
maps (no tiles), distances and tap-to-call links; accepting, resolving with a photo through the
camera input, the return visit with satisfaction, escalating with a reason; a step the server
refuses; going offline (banner, steps queued, sent in order once back, the page reopened from
the service worker's cache); and a new assignment appearing without a reload.

Screenshots of every state are written to $GEOGRID_SCREENSHOTS (or the test's temporary folder).
"""

from __future__ import annotations

import io
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from web_support import PASSWORDS, WORKER_GRID

from geogrid.access import Actor
from geogrid.db import schema as t
from geogrid.db.types import utcnow
from geogrid.usecases import incidents as U

DISP = Actor("disp", "dispatcher")
WORKER = Actor("worker", "worker", frozenset({WORKER_GRID}))
HERE = (118.93, 32.11)  # in the worker's grid
ELSEWHERE = (118.9170, 32.1000)


@pytest.fixture(scope="module")
def phone_site(plan_live):
    """The module's own app: (url, site), the live events polled every second while the stream
    is unavailable."""
    url, site = plan_live
    site.app.config["PHONE_POLL_SECONDS"] = 1
    return url, site


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("GEOGRID_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def shot(page, name: str, *, full: bool = False):
        page.screenshot(path=str(folder / f"phone-{name}.png"), full_page=full)

    return shot


def report(site, dx=0.0, dy=0.0, *, at=HERE, **kw):
    kw.setdefault("category", "0601")
    kw.setdefault("description", "井盖缺失")
    return U.report(site.service, DISP, at[0] + dx, at[1] + dy, dispatch=True, **kw).id


def set_times(site, incident_id, **values):
    with site.store.engine.begin() as conn:
        conn.execute(t.incidents.update().where(t.incidents.c.id == incident_id).values(**values))


def state_of(site, incident_id):
    return site.store.incident(incident_id).state


def open_phone(page, url):
    page.goto(f"{url}/login?next=/m/")
    page.fill("input[name=username]", "worker")
    page.fill("input[name=password]", PASSWORDS["worker"])
    page.click("form button[type=submit]")
    page.wait_for_url(f"{url}/m/")
    page.wait_for_function("() => document.documentElement.dataset.phoneReady === '1'")


def card(page, incident_id):
    return page.locator(f"article.ph-card[data-id='{incident_id}']")


def tab(page, name):
    page.click(f"#tab-{name}")
    expect(page.locator(f"#tab-{name}")).to_have_attribute("aria-selected", "true")


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 160, 90)).save(buf, "JPEG")
    return buf.getvalue()


def assert_fits_a_phone(page):
    """No horizontal scroll; every visible button and link at least 44 px high; no text under
    14 px."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide"
    small = page.evaluate(
        """() => [...document.querySelectorAll('button, a, .ph-choice-item span, label.ph-btn')]
             .filter((e) => e.offsetParent !== null && !e.closest('.leaflet-container'))
             .map((e) => [e.textContent.trim().slice(0, 20), e.getBoundingClientRect().height])
             .filter(([, h]) => h < 44)"""
    )
    assert small == [], f"touch targets under 44 px: {small}"
    tiny = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
             .filter((e) => e.offsetParent !== null && !e.closest('.leaflet-container')
                     && [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
             .map((e) => [e.textContent.trim().slice(0, 20), parseFloat(getComputedStyle(e).fontSize)])
             .filter(([, s]) => s < 14)"""
    )
    assert tiny == [], f"text under 14 px: {tiny}"


# ---------------------------------------------------------------------- the tasks
@pytest.fixture(scope="module")
def tasks(phone_site):
    """One task of each kind in the worker's grid, and one in another grid."""
    _, site = phone_site
    made = {
        "new": report(site, reporter="王女士", reporter_contact="139 0000 1111",
                      address="仙林大道 1 号东门"),
        "soon": report(site, 0.001, 0.0005, category="0202", description="占道摆摊"),
        "overdue": report(site, -0.001, 0.0008, category="0202", description="流动摊贩占道经营，影响行人通行"),
        "revisit": report(site, 0.0005, -0.001, description="路灯不亮"),
        "other": report(site, at=ELSEWHERE, description="别的网格"),
    }  # fmt: skip
    U.act(site.service, WORKER, made["soon"], "accept")
    U.act(site.service, WORKER, made["overdue"], "accept")
    U.act(site.service, WORKER, made["revisit"], "resolve", note="已修复")
    now = utcnow()
    set_times(site, made["soon"], due_at=now + timedelta(hours=5))
    set_times(site, made["overdue"], due_at=now - timedelta(hours=30))
    set_times(site, made["revisit"], revisit_due_at=now + timedelta(hours=3))
    return made


def test_the_tasks_of_my_grid(phone_site, tasks, phone_watch, shots):
    url, site = phone_site
    page, watch = phone_watch
    watch.tolerated.append("/api/v1/events")  # the stream is cut when the page goes
    open_phone(page, url)
    tab(page, "all")
    shown = {
        int(i)
        for i in page.locator("article.ph-card").evaluate_all("es => es.map(e => e.dataset.id)")
    }
    assert {tasks[k] for k in ("new", "soon", "overdue", "revisit")} <= shown
    assert tasks["other"] not in shown  # another grid's task never reaches the page
    counts = {
        k: int(page.text_content(f"#tab-{k} .ph-badge"))
        for k in ("new", "soon", "overdue", "revisit")
    }
    assert (
        counts["soon"] >= 1
        and counts["overdue"] >= 1
        and counts["revisit"] >= 1
        and counts["new"] >= 1
    )

    tab(page, "new")
    new = card(page, tasks["new"])
    expect(new).to_be_visible()
    assert "井盖缺失" in new.text_content() and "仙林大道 1 号东门" in new.text_content()
    call = new.locator("a.ph-call")
    assert call.get_attribute("href") == "tel:13900001111" and "王女士" in call.text_content()
    # the distance from the phone's position, as the server measured it
    expect(new.locator(".ph-dist")).to_contain_text(re.compile(r"相距 \d+ 米"))
    # a small map of the grid and the point, drawn without any tile
    expect(
        new.locator(".ph-map.leaflet-container path.leaflet-interactive, .ph-map path")
    ).to_have_count(2)
    assert page.locator("img.leaflet-tile").count() == 0
    # only the steps the server allows a worker now
    assert new.locator(".ph-actions button").evaluate_all(
        "bs => bs.map(b => b.dataset.action)"
    ) == ["accept", "resolve", "escalate", "photo"]
    assert_fits_a_phone(page)
    shots(page, "1-new")
    shots(page, "1-new-full", full=True)

    tab(page, "overdue")
    over = card(page, tasks["overdue"])
    assert "ph-overdue" in over.get_attribute("class")
    expect(over.locator(".ph-due-over")).to_contain_text("超期")
    shots(page, "2-overdue")
    tab(page, "soon")
    expect(card(page, tasks["soon"]).locator(".ph-due-soon")).to_be_visible()
    shots(page, "3-soon")
    tab(page, "revisit")
    rv = card(page, tasks["revisit"])
    assert (
        rv.locator(".ph-actions button").evaluate_all("bs => bs.map(b => b.dataset.action)")[0]
        == "revisit"
    )
    shots(page, "4-revisit")
    # nearest first
    tab(page, "all")
    page.click("#ph-sort button[data-sort=near]")
    dists = page.locator("article.ph-card .ph-dist").evaluate_all(
        "ds => ds.map(d => parseFloat(d.textContent.replace(/[^0-9.]/g, '')) * (d.textContent.includes('公里') ? 1000 : 1))"
    )
    assert dists == sorted(dists)
    assert_fits_a_phone(page)
    shots(page, "5-all-nearest")


def test_accept_resolve_with_a_photo_revisit_escalate(phone_site, phone_watch, shots):
    url, site = phone_site
    page, watch = phone_watch
    watch.tolerated.append("/api/v1/events")
    a = report(site, 0.0002, 0.0002, description="井盖松动")
    b = report(site, -0.0003, 0.0001, category="0202", description="违规占道")
    open_phone(page, url)
    tab(page, "all")

    # accept: one tap
    card(page, a).locator("button[data-action=accept]").click()
    expect(card(page, a)).to_have_attribute("data-state", "handling", timeout=10_000)
    assert state_of(site, a) == "handling"

    # resolve on the spot with a photo from the camera input
    card(page, a).locator("button[data-action=resolve]").click()
    sheet = page.locator("#ph-sheet")
    expect(sheet).to_be_visible()
    camera = sheet.locator("input[type=file][name=photos]")
    assert (
        camera.get_attribute("accept") == "image/*"
        and camera.get_attribute("capture") == "environment"
    )
    assert camera.evaluate("i => i.multiple")
    sheet.locator("button[type=submit]").click()  # no note yet: said on the sheet, nothing sent
    expect(page.locator("#ph-sheet-error")).to_have_text("请填写备注。")
    sheet.locator("textarea[name=note]").fill("已重新固定井盖")
    camera.set_input_files({"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg()})
    expect(sheet.locator(".ph-previews img")).to_have_count(1)
    assert_fits_a_phone(page)
    shots(page, "6-resolve-sheet")
    sheet.locator("button[type=submit]").click()
    expect(sheet).to_be_hidden()
    expect(card(page, a)).to_have_attribute("data-state", "resolved", timeout=10_000)
    inc = site.store.incident(a)
    assert inc.state == "resolved" and len(inc.photos) == 1
    assert inc.events[-1]["note"] == "已重新固定井盖"

    # the return visit with the reporter's satisfaction
    card(page, a).locator("button[data-action=revisit]").click()
    expect(sheet).to_be_visible()
    sheet.locator("button[type=submit]").click()
    expect(page.locator("#ph-sheet-error")).to_have_text("请选择报告人的满意度。")
    sheet.locator("input[name=satisfaction][value=fair]").click()  # a tap on 基本满意
    assert_fits_a_phone(page)
    shots(page, "7-revisit-sheet")
    sheet.locator("button[type=submit]").click()
    expect(sheet).to_be_hidden()
    expect(card(page, a)).to_have_count(0, timeout=10_000)  # no longer open for the worker
    inc = site.store.incident(a)
    assert inc.state == "revisited" and inc.satisfaction == "fair"

    # escalate: the reason is required
    card(page, b).locator("button[data-action=escalate]").click()
    sheet.locator("button[type=submit]").click()
    expect(page.locator("#ph-sheet-error")).to_have_text("请填写原因。")
    sheet.locator("textarea[name=note]").fill("涉及城管执法，需要中队处理")
    shots(page, "8-escalate-sheet")
    sheet.locator("button[type=submit]").click()
    expect(card(page, b)).to_have_attribute("data-state", "escalated", timeout=10_000)
    assert state_of(site, b) == "escalated"
    assert site.store.incident(b).events[-1]["note"] == "涉及城管执法，需要中队处理"


def test_a_step_the_server_refuses_is_shown(phone_site, phone_watch, shots):
    url, site = phone_site
    page, watch = phone_watch
    watch.tolerated += ["/api/v1/events", "status of 400"]
    c = report(site, 0.0004, -0.0002, description="广告乱贴")
    open_phone(page, url)
    tab(page, "new")
    expect(card(page, c)).to_be_visible()
    U.act(site.service, DISP, c, "cancel", note="重复上报")  # meanwhile, at the dispatch desk
    card(page, c).locator("button[data-action=resolve]").click()
    page.locator("#ph-sheet textarea[name=note]").fill("已清除")
    page.locator("#ph-sheet button[type=submit]").click()
    error = page.locator("#ph-sheet-error")
    expect(error).to_contain_text("cannot resolve an incident that is cancelled")
    shots(page, "9-refused")
    assert state_of(site, c) == "cancelled"


def test_offline_steps_are_queued_then_sent(phone_site, phone_watch, shots):
    url, site = phone_site
    page, watch = phone_watch
    # offline loads fail; the step the server refuses answers 400
    watch.tolerated += ["/api/v1/events", "ERR_INTERNET_DISCONNECTED", "status of 400"]
    d = report(site, 0.0006, 0.0003, description="窨井盖破损")
    e = report(site, -0.0006, -0.0003, category="0202", description="店外经营")
    f = report(site, 0.0001, -0.0005, description="垃圾满溢")
    open_phone(page, url)
    tab(page, "new")
    expect(card(page, d).locator(".ph-dist")).to_contain_text("相距")
    shown = page.locator("article.ph-card .ph-dist").first.text_content()

    page.context.set_offline(True)
    banner = page.locator("#ph-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("已离线")
    # accept, resolve with a photo: kept on the phone, shown as waiting
    card(page, d).locator("button[data-action=accept]").click()
    expect(card(page, d).locator(".ph-pending")).to_contain_text("等待发送：签收")
    card(page, e).locator("button[data-action=resolve]").click()
    page.locator("#ph-sheet textarea[name=note]").fill("已劝离")
    page.locator("#ph-sheet input[name=photos]").set_input_files(
        {"name": "e.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}
    )
    page.locator("#ph-sheet button[type=submit]").click()
    expect(card(page, e).locator(".ph-pending")).to_contain_text("等待发送")
    card(page, f).locator("button[data-action=accept]").click()
    expect(page.locator("#ph-outbox .ph-out-wait")).to_have_attribute("data-count", "3")
    expect(page.locator("#ph-outbox .ph-out-wait")).to_contain_text(
        f"#{d} 签收 · #{e} 处置完毕 · #{f} 签收"
    )
    # the distances shown before stay
    assert page.locator("article.ph-card .ph-dist").first.text_content() == shown
    assert_fits_a_phone(page)
    shots(page, "10-offline-queued")
    page.click("button.ph-logout")  # logging out now would drop them: refused, said
    expect(page.locator("#ph-toast")).to_contain_text("还有 3 项操作等待发送")
    assert page.url == f"{url}/m/"
    assert (state_of(site, d), state_of(site, e), state_of(site, f)) == ("dispatched",) * 3
    # meanwhile the dispatcher cancels f: that step will be refused when it is sent
    U.act(site.service, DISP, f, "cancel", note="误报")

    page.context.set_offline(False)
    expect(page.locator("#ph-outbox .ph-out-wait")).to_have_count(0, timeout=15_000)
    expect(banner).not_to_contain_text("已离线")
    assert state_of(site, d) == "handling"
    inc = site.store.incident(e)
    assert inc.state == "resolved" and len(inc.photos) == 1 and inc.events[-1]["note"] == "已劝离"
    results = page.locator("#ph-outbox .ph-out").all_text_contents()
    assert results[0].startswith(f"已发送：#{d} 签收") and results[1].startswith(f"已发送：#{e}")
    assert results[2].startswith(f"被拒绝：#{f} 签收") and "cancelled" in results[2]
    assert [ev["action"] for ev in site.store.incident(d).events][-1] == "accept"
    for gone in (d, e, f):  # the list is read again: none of them is new any more
        expect(card(page, gone)).to_have_count(0)
    shots(page, "11-back-online")
    # a result stays until dismissed
    page.locator("#ph-outbox .ph-out-refused .ph-out-close").click()
    expect(page.locator("#ph-outbox .ph-out-refused")).to_have_count(0)


def test_steps_kept_through_an_expired_login(phone_site, phone_watch, shots):
    url, site = phone_site
    page, watch = phone_watch
    watch.tolerated += ["/api/v1/events", "ERR_INTERNET_DISCONNECTED", "status of 401"]
    k = report(site, -0.0004, 0.0006, description="登录过期时的任务")
    open_phone(page, url)
    tab(page, "all")
    page.context.set_offline(True)
    expect(page.locator("#ph-banner")).to_contain_text("已离线")
    card(page, k).locator("button[data-action=accept]").click()
    expect(card(page, k).locator(".ph-pending")).to_contain_text("等待发送：签收")
    page.context.clear_cookies()  # the login ended meanwhile
    page.context.set_offline(False)
    banner = page.locator("#ph-banner")
    expect(banner).to_contain_text("登录已过期", timeout=15_000)
    expect(page.locator("#ph-outbox .ph-out-wait")).to_have_attribute("data-count", "1")
    assert state_of(site, k) == "dispatched"  # kept on the phone, not lost
    assert_fits_a_phone(page)
    shots(page, "16-login-expired")
    banner.locator("a").click()  # log in again: back on the page, the step goes out
    page.fill("input[name=username]", "worker")
    page.fill("input[name=password]", PASSWORDS["worker"])
    page.click("form button[type=submit]")
    page.wait_for_url(f"{url}/m/")
    expect(page.locator("#ph-outbox .ph-out-ok")).to_contain_text(
        f"已发送：#{k} 签收", timeout=15_000
    )
    assert state_of(site, k) == "handling"


def test_the_page_opens_offline_with_the_last_tasks(phone_site, phone_watch, shots):
    url, site = phone_site
    page, watch = phone_watch
    watch.tolerated += ["/api/v1/events", "ERR_INTERNET_DISCONNECTED"]
    g = report(site, 0.0003, 0.0006, description="离线可见的任务")
    open_phone(page, url)
    # the service worker has kept the shell and controls the page
    page.evaluate("() => navigator.serviceWorker.ready")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.wait_for_function(
        "() => caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.match('/m/'))))).then(hits => hits.some(Boolean))"
    )
    tab(page, "new")
    expect(card(page, g).locator(".ph-dist")).to_contain_text("相距")
    page.context.set_offline(True)
    page.reload()
    page.wait_for_function("() => document.documentElement.dataset.phoneReady === '1'")
    expect(page.locator("#ph-banner")).to_contain_text("已离线")
    expect(card(page, g)).to_be_visible()  # the last list, kept by the page
    expect(card(page, g).locator(".ph-dist")).to_contain_text("相距")  # and its distances
    assert page.evaluate("() => typeof L") == "object"  # Leaflet from the cache
    shots(page, "12-reopened-offline")
    page.context.set_offline(False)
    expect(page.locator("#ph-banner")).not_to_contain_text("已离线", timeout=15_000)


def test_a_new_assignment_appears_without_a_reload(phone_site, tasks, phone_watch, shots):
    url, site = phone_site
    page, watch = phone_watch
    watch.tolerated.append("/api/v1/events")
    open_phone(page, url)
    expect(page.locator("html")).to_have_attribute("data-live", "sse")  # the live events
    tab(page, "new")
    page.mouse.click(200, 400)  # a first touch: sound may play from now on
    h = report(site, -0.0002, 0.0004, description="新派遣：路面塌陷")
    expect(card(page, h)).to_be_visible(timeout=10_000)
    alert = page.locator("#ph-alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(f"新任务：#{h}")
    shots(page, "13-new-assignment")
    alert.locator("#ph-alert-close").click()
    expect(alert).to_be_hidden()
    # reading the list again (every event, every poll) leaves the worker where they were
    tab(page, "all")
    page.evaluate("() => window.scrollTo(0, 600)")
    y = page.evaluate("() => window.scrollY")
    assert y > 500
    drawn = page.evaluate("() => window.geogridPhone.state.renders")
    page.evaluate("() => window.geogridPhone.refresh()")
    page.wait_for_function(f"() => window.geogridPhone.state.renders > {drawn}")  # drawn again
    assert page.evaluate("() => window.scrollY") == y


def test_the_pages_stream_carries_only_its_grid(phone_site, phone_watch):
    url, site = phone_site
    page, _ = phone_watch
    open_phone(page, url)
    expect(page.locator("html")).to_have_attribute("data-live", "sse")
    other = report(site, at=ELSEWHERE, description="别的网格的新事件")
    mine = report(site, 0.0005, 0.0005, description="本网格的新事件")
    page.wait_for_function(f"() => window.geogridPhone.state.seen.includes({mine})")
    seen = page.evaluate("() => window.geogridPhone.state.seen")
    assert other not in seen  # the other grid's event never reached this phone
    assert card(page, other).count() == 0


def test_other_roles_are_sent_to_the_map(phone_site, page_watch):
    url, _ = phone_site
    page, _ = page_watch
    page.goto(f"{url}/login?next=/m/")
    page.fill("input[name=username]", "dispatcher")
    page.fill("input[name=password]", PASSWORDS["dispatcher"])
    page.click("form button[type=submit]")
    page.wait_for_url(f"{url}/")
    assert "手机页面供网格员使用" in page.text_content("body")


def test_the_page_on_a_wide_screen(phone_site, page_watch, shots):
    url, _ = phone_site
    page, watch = page_watch
    watch.tolerated.append("/api/v1/events")
    open_phone(page, url)
    width = page.evaluate("() => document.body.getBoundingClientRect().width")
    assert width <= 480  # a phone-width column, not stretched over 1600 px
    shots(page, "14-desktop")


def test_the_page_in_english(phone_site, tasks, phone_watch, shots):
    url, _ = phone_site
    page, watch = phone_watch
    watch.tolerated.append("/api/v1/events")
    open_phone(page, url)
    page.click("a.ph-lang")
    page.wait_for_url(f"{url}/m/")
    page.wait_for_function("() => document.documentElement.dataset.phoneReady === '1'")
    assert page.text_content("h1") == "My tasks"
    assert page.text_content("#tab-new .ph-tab-label") == "New"
    tab(page, "overdue")
    expect(card(page, tasks["overdue"]).locator(".ph-due-over")).to_contain_text("Overdue since")
    expect(card(page, tasks["overdue"]).locator(".ph-dist")).to_contain_text(
        re.compile(r"\d+ m away")
    )
    assert_fits_a_phone(page)
    shots(page, "15-english")
