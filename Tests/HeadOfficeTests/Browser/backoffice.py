#!/usr/bin/python3
"""Drives the back office for the Swift tests: headless Chromium through Selenium (chromedriver),
or plain HTTP for the security checks. Prints one JSON object of what it saw; the Swift tests
make the assertions. Usage: backoffice.py SCENARIO BASE_URL [ARGS...]"""
import http.cookiejar, json, sys, time, urllib.error, urllib.parse, urllib.request


def browser(width=1280, height=800):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--window-size={width},{height}"]:
        o.add_argument(a)
    o.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def by_id(d, i):
    from selenium.webdriver.common.by import By
    return d.find_element(By.ID, i)


def css(d, sel):
    from selenium.webdriver.common.by import By
    return d.find_elements(By.CSS_SELECTOR, sel)


def sign_in(d, base, user, password):
    d.get(base + "/login")
    by_id(d, "username").send_keys(user)
    by_id(d, "password").send_keys(password)
    submit(d, "signin", "header")


def submit(d, button_id, then, timeout=20):
    """Clicks a form's button and waits for the next page (an element matching `then`)."""
    from selenium.webdriver.support.ui import WebDriverWait
    old = d.find_element("tag name", "html")
    by_id(d, button_id).click()
    WebDriverWait(d, timeout).until(lambda drv: old != drv.find_element("tag name", "html") and css(drv, then))


def set_field(d, name, value):
    e = by_id(d, name)
    e.clear()
    e.send_keys(value)


def errors(d):
    return {e.get_attribute("data-field"): e.text for e in css(d, ".err[data-field]")}


def publish(base, shots):
    """Sign in; change the earn rate; preview a basket; publish to store 0001; the rollout page."""
    out = {}
    d = browser()
    try:
        d.get(base + "/programme")
        out["unsigned"] = d.current_url
        sign_in(d, base, "anna", "anna-secret-1")
        d.get(base + "/programme")
        out["before"] = by_id(d, "earn.pointsPerUnit").get_attribute("value")
        set_field(d, "version", "bo-triple")
        set_field(d, "earn.pointsPerUnit", "3")
        # A challenge, in the empty row the form keeps for one.
        for k, v in [("id", "coffee"), ("name", "Coffee challenge"), ("measure", "visits"), ("skus", "F0015"), ("target", "3"), ("window", "days"),
                     ("length", "30"), ("rewardPoints", "100"), ("badge", "Coffee lover"), ("starts", "2026-01-01T00:00"), ("ends", "2031-01-01T00:00")]:
            set_field(d, "challenges[0]." + k, v)
        submit(d, "save", "h1")
        out["saved"] = css(d, ".notice")[0].text if css(d, ".notice") else ""
        by_id(d, "basket").send_keys("F0002 1\nF0001 2")
        submit(d, "preview", "#total-points")
        out["preview_total"] = by_id(d, "total-points").text
        out["preview_rows"] = [r.text for r in css(d, "#award tr")]
        d.get(base + "/programme/diff")
        out["diff"] = [r.text for r in css(d, "#diff tr")]
        d.get(base + "/programme")
        from selenium.webdriver.support.ui import Select
        Select(by_id(d, "scope")).select_by_value("store:0001")
        by_id(d, "note").send_keys("Triple points for the opening week")
        submit(d, "publish", "h1")
        out["after_publish"] = d.current_url
        out["notice"] = css(d, ".notice")[0].text if css(d, ".notice") else ""
        deadline = time.time() + 30
        while time.time() < deadline:
            d.get(base + "/rollout")
            rows = {r.get_attribute("data-till"): r.text for r in css(d, "#rollout tr[data-till]")}
            if "runs v1" in " ".join(v for k, v in rows.items() if k == "0001/01") or "v1 v1 0" in rows.get("0001/01", ""):
                break
            time.sleep(0.5)
        out["rollout"] = rows
        if shots:
            d.save_screenshot(shots + "/backoffice-rollout.png")
        # Readable at 1280x800 and on a tablet: no page scrolls sideways.
        out["overflow"] = {}
        for w, h in [(1280, 800), (768, 1024)]:
            d.set_window_size(w, h)
            for p in ["/", "/programme", "/catalog", "/settings", "/rollout", "/receipts", "/customers?q=Ivanova", "/customer?id=M1"]:
                d.get(base + p)
                if d.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1"):
                    out["overflow"][f"{p} at {w}x{h}"] = True
        d.set_window_size(1280, 800)
        # Customer service's pages, as a browser submits the search form.
        d.get(base + "/customers")
        by_id(d, "q").send_keys("anna ivanova")
        submit(d, "find", "#count")
        out["customers_count"] = by_id(d, "count").text
        out["customers_rows"] = [r.get_attribute("data-customer") for r in css(d, "#customers tr[data-customer]")]
        css(d, "#customers a")[0].click()
        out["customer_balance"] = by_id(d, "balance").text if css(d, "#balance") else ""
        out["customer_cards"] = [r.get_attribute("data-card") for r in css(d, "#cards tr[data-card]")]
        if shots:
            d.get(base + "/programme")
            d.save_screenshot(shots + "/backoffice-programme.png")
    finally:
        d.quit()
    return out


def service(base, stock_card, shots):
    """Customer service's actions on member M1 (Anna Ivanova) through the browser, a second user's
    approval, a merge, an export and an erasure; marketing reads without the forms."""
    from selenium.webdriver.support.ui import Select
    out = {}
    d = browser()

    def notice():
        return css(d, ".notice")[0].text if css(d, ".notice") else ""

    def act(form_button, fields, reason, note="", selects=None):
        for name, value in (fields or {}).items():
            set_field(d, name, value)
        for name, value in (selects or {}).items():
            Select(by_id(d, name)).select_by_value(value)
        form = by_id(d, form_button).find_element("xpath", "./ancestor::form")
        Select(form.find_element("name", "reason")).select_by_value(reason)
        n = form.find_element("name", "note")
        n.clear()
        n.send_keys(note)
        submit(d, form_button, "h1")
        return notice()

    def page():
        return {
            "balance": by_id(d, "balance").text,
            "cards": {r.get_attribute("data-card"): r.find_elements("css selector", "td")[1].text for r in css(d, "#cards tr[data-card]")},
            "consent": by_id(d, "consent").text,
            "consents": len(css(d, "#consents tr")) - 1,
            "audit": [r.find_elements("css selector", "td")[2].text for r in css(d, "#audit tr")[1:]],
            "waiting": [r.text for r in css(d, "#waiting tr")[1:]],
        }
    try:
        sign_in(d, base, "cora", "cora-secret-12")
        out["landing"] = d.current_url
        d.get(base + "/customer?id=M1")
        out["start"] = page()
        out["adjust_small"] = act("adjust", {"adjust-points": "120"}, "missing-points", "receipt 0001-01-000077")
        out["after_small"] = page()
        out["adjust_large"] = act("adjust", {"adjust-points": "900"}, "goodwill", "complaint about the queue")
        out["after_large"] = page()
        out["details_bad"] = act("correct", {"lastName": "Ivanova-Smith", "email": "not-an-email"}, "data-correction")
        out["details_bad_status"] = d.execute_script("return document.title")
        out["details"] = act("correct", {"lastName": "Ivanova-Smith", "email": "anna.smith@example.com"}, "data-correction", "married")
        out["name"] = css(d, "#details strong")[0].text
        out["opt_out"] = act("consent-change", {}, "customer-request", "phoned in")
        out["after_opt_out"] = page()
        card = list(out["start"]["cards"].keys())[0]
        out["block"] = act("set-status", {}, "fraud-suspected", "two cards seen at once", {"status-card": card, "status-to": "blocked"})
        out["after_block"] = page()
        out["unblock"] = act("set-status", {}, "customer-request", "identity checked", {"status-card": card, "status-to": "active"})
        out["replace"] = act("replace", {"replace-new": stock_card}, "lost-or-stolen", "lost on the bus", {"replace-card": card})
        out["after_replace"] = page()
        if shots:
            d.save_screenshot(shots + "/backoffice-customer.png")
        # The export, as the browser's session downloads it.
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in d.get_cookies())
        r = urllib.request.urlopen(urllib.request.Request(base + "/customer/export?id=M1", headers={"Cookie": cookie}))
        out["export_type"] = r.headers.get("Content-Type")
        out["export_disposition"] = r.headers.get("Content-Disposition")
        exported = json.loads(r.read())
        out["export_member"] = exported["member"]["last_name"]
        out["export_sections"] = sorted(exported.keys())
        # A second user approves the large adjustment.
        d.find_element("css selector", "header form button").click()
        sign_in(d, base, "mia", "mia-secret-123")
        d.get(base + "/approvals")
        out["approvals"] = [r.text for r in css(d, "#waiting tr")[1:]]
        buttons = css(d, "#waiting button[id^=approve-]")
        if buttons:
            submit(d, buttons[0].get_attribute("id"), "h1")
        out["after_approve"] = css(d, "#none")[0].text if css(d, "#none") else notice()
        d.get(base + "/customer?id=M1")
        out["after_approval"] = page()
        # Merge Boris (M2) into Anna; erase Clara (M3), first without forfeiting her points.
        out["merge"] = act("merge", {"merge-other": "M2"}, "duplicate-member", "same person, two cards")
        out["after_merge"] = page()
        d.get(base + "/customer?id=M3")
        out["erase_refused"] = act("erase", {"erase-confirm": "M3"}, "gdpr-request", "letter")
        by_id(d, "erase-forfeit").click()
        out["erase"] = act("erase", {"erase-confirm": "M3"}, "gdpr-request", "letter of 1 December")
        out["erased_name"] = css(d, "#details strong")[0].text
        out["erased_closed"] = css(d, "#closed")[0].text if css(d, "#closed") else ""
        out["erased_forms"] = len(css(d, "#erase-form"))
        # Marketing reads a member's page without the forms.
        d.find_element("css selector", "header form button").click()
        sign_in(d, base, "anna", "anna-secret-1")
        d.get(base + "/customer?id=M1")
        out["marketing_forms"] = len(css(d, "form.card"))
        out["marketing_balance"] = by_id(d, "balance").text
        out["overflow"] = {}
        for w, h in [(1280, 800), (768, 1024)]:
            d.set_window_size(w, h)
            for p in ["/customer?id=M1", "/approvals"]:
                d.get(base + p)
                if d.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1"):
                    out["overflow"][f"{p} at {w}x{h}"] = True
    finally:
        d.quit()
    return out


def member(base, maildir, shots):
    """A member signs in with the code e-mailed to them (read from the SMTP server's maildir),
    sees their balance and digital card on a phone-sized screen, saves the card's picture, edits
    their phone and withdraws consent."""
    import email, os, re
    out = {}
    d = browser(412, 915)
    try:
        d.get(base + "/member")
        out["signin_title"] = d.title
        by_id(d, "email").send_keys("anna.ivanova@example.com")
        submit(d, "send-code", "#code")
        out["code_notice"] = css(d, ".notice")[0].text if css(d, ".notice") else ""
        code, deadline = None, time.time() + 20
        while code is None and time.time() < deadline:
            for name in sorted(os.listdir(os.path.join(maildir, "new"))) if os.path.isdir(os.path.join(maildir, "new")) else []:
                with open(os.path.join(maildir, "new", name), "rb") as f:
                    m = email.message_from_bytes(f.read())
                if m["To"] == "anna.ivanova@example.com":
                    found = re.search(r"is (\d{6})\.", m.get_payload(decode=True).decode("utf-8"))
                    code = found.group(1) if found else None
            time.sleep(0.2)
        out["code_found"] = code is not None
        by_id(d, "code").send_keys(code or "000000")
        submit(d, "sign-in", "#balance")
        out["balance"] = by_id(d, "balance").text
        out["tier"] = by_id(d, "tier").text if css(d, "#tier") else ""
        out["next_tier"] = by_id(d, "next-tier").text if css(d, "#next-tier") else ""
        out["card_number"] = by_id(d, "card-number").text
        out["images_loaded"] = d.execute_script(
            "return [document.getElementById('barcode'), document.getElementById('qr')].every(i => i.complete && i.naturalWidth > 0)")
        out["overflow"] = d.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
        card = by_id(d, "digital-card")
        d.execute_script("arguments[0].scrollIntoView()", card)
        png = os.path.join(shots, "member-card.png")
        card.screenshot(png)
        out["png"] = png
        set_field(d, "phone", "+7 900 123 4567")
        submit(d, "save-details", "#balance")
        out["details_notice"] = css(d, ".notice")[0].text if css(d, ".notice") else ""
        out["phone"] = by_id(d, "phone").get_attribute("value")
        submit(d, "consent-change", "#balance")
        out["consent"] = by_id(d, "consent").text
        if shots:
            d.save_screenshot(os.path.join(shots, "member-page.png"))
        submit(d, "signout", "#email")
        d.get(base + "/member")
        out["after_signout"] = len(css(d, "#email")) == 1
    finally:
        d.quit()
    return out


def bad_input(base, csv_path):
    """An invalid programme and a catalog file with bad rows."""
    out = {}
    d = browser()
    try:
        sign_in(d, base, "anna", "anna-secret-1")
        d.get(base + "/programme")
        set_field(d, "earn.pointsPerUnit", "-2")
        set_field(d, "tiers[1].threshold", "0.00")                 # overlaps tier 0
        set_field(d, "redemption.bands[1].minorPer100Points", "0.10")   # below band 0: the table decreases
        submit(d, "save", "h1")
        out["programme_notice"] = css(d, ".notice")[0].text if css(d, ".notice") else ""
        out["programme_errors"] = errors(d)
        d.get(base + "/catalog")
        by_id(d, "file").send_keys(csv_path)
        submit(d, "upload", "h1")
        out["csv_issues"] = by_id(d, "csv-issues").text if css(d, "#csv-issues") else ""
    finally:
        d.quit()
    return out


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def client():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(jar)), jar


def call(opener, url, data=None):
    try:
        r = opener.open(url, data=urllib.parse.urlencode(data).encode() if data is not None else None, timeout=30)
        return r.status, r.headers.get("Location", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location", ""), e.read().decode()


def login(opener, base, user, password):
    _, _, page = call(opener, base + "/login")
    nonce = page.split('name="login_csrf" value="')[1].split('"')[0]
    return call(opener, base + "/login", {"login_csrf": nonce, "username": user, "password": password})


def csrf_of(page):
    return page.split('name="csrf" value="')[1].split('"')[0]


def security(base):
    out = {}
    anon, _ = client()
    out["pages"] = {}
    for p in ["/", "/programme", "/programme/diff", "/catalog", "/catalog/item?sku=F0001", "/settings", "/rollout", "/receipts",
              "/receipts/svg?number=0001-01-000001"]:
        status, location, _ = call(anon, base + p)
        out["pages"][p] = [status, location]
    for p, data in [("/programme", {"earn.pointsPerUnit": "9"}), ("/programme/publish", {"scope": "chain"}), ("/settings", {"scope": "chain"}),
                    ("/catalog/item", {"sku": "F0001", "price": "0.01", "scope": "chain"}), ("/rollback", {"kind": "prices", "scope": "chain"})]:
        status, location, _ = call(anon, base + p, data)
        out["pages"]["POST " + p] = [status, location]
    # Signed in, but a form without the session's token.
    anna, _ = client()
    login(anna, base, "anna", "anna-secret-1")
    status, _, page = call(anna, base + "/programme/publish", {"scope": "chain"})
    out["no_csrf"] = [status, "did not come from your back office session" in page]
    status, _, page = call(anna, base + "/settings", {"scope": "chain", "csrf": "0" * 64, "autoLockMinutes": "3"})
    out["wrong_csrf"] = status
    # A store manager and another store.
    sam, _ = client()
    login(sam, base, "sam", "sam-secret-12")
    _, _, page = call(sam, base + "/settings")
    token = csrf_of(page)
    out["store_options"] = [o.split('"')[0] for o in page.split('<option value="')[1:] if o.split('"')[0].startswith(("store:", "till:", "chain", "group:"))]
    status, _, page = call(sam, base + "/settings", {"csrf": token, "scope": "store:0002", "autoLockMinutes": "3"})
    out["other_store"] = [status, "only to their own store" in page]
    status, location, _ = call(sam, base + "/settings", {"csrf": token, "scope": "store:0001", "autoLockMinutes": "3"})
    out["own_store"] = [status, location]
    status, _, _ = call(sam, base + "/programme")
    out["store_programme"] = status
    # A product named <script>…: shown as text.
    _, _, page = call(anna, base + "/catalog?q=Evil")
    out["escaped"] = "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    out["raw_script"] = "<script>alert(1)</script>" in page
    # Lockout after five wrong passwords: then even the right one is refused for a while.
    mallory, _ = client()
    codes = [login(mallory, base, "lock-me", "wrong-password")[0] for _ in range(5)]
    status, _, page = login(mallory, base, "lock-me", "lock-me-secret")
    out["lockout"] = [codes, status, "locked until" in page]
    return out


def catalog_scope(base, csv_path):
    """The same catalog file uploaded for one store, then for the chain (in the browser)."""
    from selenium.webdriver.support.ui import Select
    out = {}
    d = browser()
    try:
        sign_in(d, base, "anna", "anna-secret-1")
        for scope in ["store:0001", "chain"]:
            d.get(base + "/catalog")
            by_id(d, "file").send_keys(csv_path)
            Select(by_id(d, "scope")).select_by_value(scope)
            submit(d, "upload", "h1")
            out[scope] = css(d, ".notice")[0].text if css(d, ".notice") else ""
    finally:
        d.quit()
    return out


def scoping(base, mine, theirs):
    """What each role sees of a store's receipts, tills and publications: a store manager only
    their own store's; marketing and administrators the whole chain."""
    out = {}
    for user, password in [("ada", "ada-secret-123"), ("anna", "anna-secret-1"), ("sam", "sam-secret-12")]:
        o, _ = client()
        login(o, base, user, password)
        seen = {}
        for label, number in [("mine", mine), ("theirs", theirs)]:
            status, _, body = call(o, base + "/receipts/svg?number=" + number)
            seen["svg_" + label] = [status, number in body or "<svg" in body]
            _, _, page = call(o, base + "/receipts?number=" + number)
            seen["page_" + label] = "<img" in page
        _, _, page = call(o, base + "/rollout")
        seen["rollout_tills"] = sorted(t.split('"')[0] for t in page.split('data-till="')[1:])
        _, _, page = call(o, base + "/")
        head = page.split("</strong> tills run every")[0] if "</strong> tills run every" in page else ""
        seen["overview"] = head.split("<strong>")[-1]
        out[user] = seen
    return out


def till_shot(text_path, png):
    """The till's screen (tmux capture) drawn as a terminal, for README."""
    import html
    text = open(text_path, encoding="utf-8").read()
    page = ("<html><body style='margin:0;background:#0c0c0c'><pre style='margin:0;padding:14px;color:#d0d0d0;"
            "font:14px/1.2 \"DejaVu Sans Mono\",monospace'>" + html.escape(text) + "</pre></body></html>")
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False, encoding="utf-8") as f:
        f.write(page)
    d = browser(960, 700)
    try:
        d.get("file://" + f.name)
        d.save_screenshot(png)
    finally:
        d.quit()
    return {"png": png}


def coalition(base, shots):
    """Marketing adds a partner (a wrong rate first) and renames one; reads October's settlement,
    closes it, corrects a closed statement; downloads a statement as CSV; November's page."""
    from selenium.webdriver.support.ui import Select
    out = {}
    d = browser(1280, 1100)

    def notice():
        return css(d, ".notice")[0].text if css(d, ".notice") else ""

    def statements():
        result = {}
        for st in css(d, ".statement"):
            lines = {}
            for tr in st.find_elements("css selector", "tr[data-kind]"):
                lines[tr.get_attribute("data-kind")] = [tr.find_element("css selector", ".points").text, tr.find_element("css selector", ".amount").text]
            result[st.get_attribute("data-partner")] = {"lines": lines, "net": st.find_element("css selector", ".net-amount").text,
                                                        "net_line": st.find_element("css selector", "tr.net").text,
                                                        "closed": "Closed" in st.text}
        return result

    try:
        sign_in(d, base, "anna", "anna-secret-1")
        out["nav"] = [a.text for a in css(d, "header a")]
        d.get(base + "/partners")
        out["partners"] = [r.get_attribute("data-partner") for r in css(d, "#partners tr[data-partner]")]
        for name, value in [("id", "market"), ("name", "Farmers Market"), ("earnPoints", "2"), ("earnUnit", "5.00"),
                            ("multipliers", "organic=3"), ("issueRate", "abc"), ("redeemRate", "0.95")]:
            set_field(d, name, value)
        Select(by_id(d, "kind")).select_by_value("retailer")
        submit(d, "save-partner", "h1")
        out["bad_rate"] = notice()
        out["kept"] = by_id(d, "name").get_attribute("value")
        set_field(d, "issueRate", "1.10")
        submit(d, "save-partner", "h1")
        out["added"] = notice()
        out["key"] = by_id(d, "key").text
        out["market_row"] = [r.text for r in css(d, "#partners tr[data-partner=market]")]
        d.get(base + "/partners?edit=books")
        out["editing_id_readonly"] = by_id(d, "id").get_attribute("readonly") is not None
        set_field(d, "name", "Book Nook and Co")
        submit(d, "save-partner", "h1")
        out["renamed"] = notice()
        out["partners_after"] = {r.get_attribute("data-partner"): r.text for r in css(d, "#partners tr[data-partner]")}
        if shots:
            d.save_screenshot(shots + "/partners.png")
        d.get(base + "/settlement?period=2026-10")
        out["open"] = statements()
        out["state_open"] = by_id(d, "state").text
        out["statement_points"] = by_id(d, "statement-points").text
        out["ledger_points"] = by_id(d, "ledger-points").text
        out["check"] = by_id(d, "ledger-check").text
        if shots:
            d.save_screenshot(shots + "/settlement.png")
        submit(d, "close", "h1")
        out["closed_notice"] = notice()
        out["closed"] = statements()
        out["state_closed"] = by_id(d, "state").text
        out["close_form_after"] = len(css(d, "#close-form"))
        Select(by_id(d, "partner")).select_by_value("cafe")
        set_field(d, "amount", "12.50")
        Select(by_id(d, "owedBy")).select_by_value("programme")
        set_field(d, "note", "disputed coffee order")
        submit(d, "correct", "h1")
        out["corrected"] = notice()
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in d.get_cookies())
        req = urllib.request.Request(base + "/settlement/statement.csv?partner=cafe&period=2026-10", headers={"Cookie": cookies})
        with urllib.request.urlopen(req) as r:
            out["csv"] = r.read().decode()
            out["csv_type"] = r.headers["Content-Type"]
        by_id(d, "next").click()
        out["november_period"] = by_id(d, "period").text
        out["november"] = statements()
        sign_in(d, base, "sam", "sam-secret-12")
        d.get(base + "/settlement")
        out["store_manager"] = notice()
    finally:
        d.quit()
    return out


def reports(base, shots):
    """Marketing opens each report for October 2026 (tables, chart, CSV); a store manager sees only
    their store's and is refused the chain-wide ones."""
    out = {}
    d = browser(1280, 1400)

    def tables():
        result = {}
        for t in css(d, "table.report"):
            rows = t.find_elements("tag name", "tr")
            result[t.get_attribute("data-table")] = [[c.text for c in r.find_elements("tag name", "td")] for r in rows[1:]]
        return result

    def chart_loaded():
        imgs = css(d, "#chart")
        return bool(imgs) and d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", imgs[0]) == 900

    try:
        sign_in(d, base, "anna", "anna-secret-1")
        for kind in ["sales", "cashiers", "risk", "zreports", "baskets", "liability"]:
            d.get(base + "/reports?report=" + kind + "&period=2026-10")
            out[kind] = tables()
            out[kind + "_chart"] = chart_loaded()
            if shots and kind in ("sales", "cashiers", "baskets"):
                d.save_screenshot(shots + "/report-" + kind + ".png")
        # One store, chosen with the mouse.
        d.get(base + "/reports?report=sales&period=2026-10")
        from selenium.webdriver.support.ui import Select
        Select(by_id(d, "store")).select_by_value("0002")
        submit(d, "show", "h1")
        out["one_store"] = tables()
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in d.get_cookies())
        req = urllib.request.Request(base + "/reports.csv?report=cashiers&period=2026-10", headers={"Cookie": cookies})
        with urllib.request.urlopen(req) as r:
            out["csv"] = r.read().decode()
            out["csv_type"] = r.headers["Content-Type"]
        sign_in(d, base, "sam", "sam-secret-12")
        d.get(base + "/reports?report=sales&period=2026-10&store=0002")
        out["manager"] = tables()
        out["manager_kinds"] = [a.text for a in css(d, "#kinds a")] + [s.text for s in css(d, "#kinds strong")]
        d.get(base + "/reports?report=baskets&period=2026-10")
        out["manager_baskets"] = css(d, ".notice")[0].text if css(d, ".notice") else ""
    finally:
        d.quit()
    return out


def cashback(base, shots):
    """Marketing runs a cashback period from the cashback page (wrong periods refused first),
    watches it finish, downloads the payout file, and runs it again (nothing more converted)."""
    out = {}
    d = browser(1280, 900)

    def notice():
        return css(d, ".notice")[0].text if css(d, ".notice") else ""

    def runs():
        return {r.get_attribute("data-period"): [r.find_element("css selector", c).text for c in (".state", ".cards", ".points", ".amount")]
                for r in css(d, "#runs tr[data-period]")}

    try:
        sign_in(d, base, "anna", "anna-secret-1")
        d.get(base + "/cashback")
        out["empty"] = bool(css(d, "#no-runs"))
        out["suggested"] = by_id(d, "period").get_attribute("value")
        for bad in ["2026-13", "2099-01"]:
            set_field(d, "period", bad)
            submit(d, "run", "h1")
            out["refused_" + bad] = notice()
        set_field(d, "period", "2026-Q3")
        submit(d, "run", "h1")
        out["started"] = notice()
        deadline = time.time() + 30
        while time.time() < deadline:
            d.get(base + "/cashback")
            if runs().get("2026-Q3", ["running"])[0] == "done":
                break
            time.sleep(0.5)
        out["done"] = runs()
        if shots:
            d.save_screenshot(shots + "/cashback.png")
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in d.get_cookies())
        req = urllib.request.Request(base + "/cashback/payouts.csv?period=2026-Q3", headers={"Cookie": cookies})
        with urllib.request.urlopen(req) as r:
            out["csv"] = r.read().decode()
        set_field(d, "period", "2026-Q3")
        submit(d, "run", "h1")
        time.sleep(1.5)
        d.get(base + "/cashback")
        out["again"] = runs()
    finally:
        d.quit()
    return out


def segments(base, shots):
    """Marketing scores the members, builds a segment with the mouse (a category bought, then an
    OR group with an RFM cell), sees the count follow each change, is refused a wrong postcode,
    saves it, sees it listed and downloads its members."""
    from selenium.webdriver.support.ui import Select
    out = {}
    d = browser(1280, 1400)

    def notice():
        return css(d, ".notice")[0].text if css(d, ".notice") else ""

    def count():
        return by_id(d, "count").text

    def row_form(button):
        return by_id(d, button).find_element("xpath", "./ancestor::form")

    try:
        sign_in(d, base, "anna", "anna-secret-1")
        d.get(base + "/segments")
        out["never_scored"] = bool(css(d, "#never-scored"))
        submit(d, "score-now", "#cells")
        out["scored"] = notice()
        out["cells"] = {r.get_attribute("data-cell"): r.find_elements("css selector", "td")[2].text for r in css(d, "#cells tr[data-cell]")}
        by_id(d, "new-segment").click()
        out["all"] = count()
        Select(by_id(d, "category-text")).select_by_value("Dairy")
        set_field(d, "category-days", "400")
        submit(d, "add-category", "#count")
        out["dairy"] = count()
        out["conditions_1"] = [e.text for e in css(d, "#group-1 .condition")]
        submit(d, "new-group", "#group-2")
        submit(d, "groups-match", "#count")
        out["joiner"] = css(d, ".joiner")[0].text
        Select(by_id(d, "rfm-text")).select_by_value("champions")
        Select(row_form("add-rfm").find_element("css selector", "select[name=group]")).select_by_value("1")
        submit(d, "add-rfm", "#count")
        out["either"] = count()
        out["conditions_2"] = [e.text for e in css(d, "#group-2 .condition")]
        set_field(d, "postcode-text", "75%")
        submit(d, "add-postcode", "#count")
        out["bad_postcode"] = notice()
        out["after_bad"] = count()
        set_field(d, "name", "Dairy or champions")
        submit(d, "save", "#versions")
        out["saved"] = notice()
        if shots:
            d.save_screenshot(shots + "/segment-builder.png")
        # Remove the RFM condition: the count goes back to the category's.
        submit(d, "remove-1.0", "#count")
        out["removed"] = count()
        d.get(base + "/segments")
        out["listed"] = [[c.text for c in r.find_elements("css selector", "td")][:3] for r in css(d, "#segments tr[data-segment]")]
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in d.get_cookies())
        req = urllib.request.Request(base + "/segments/members.csv?id=dairy-or-champions", headers={"Cookie": cookies})
        with urllib.request.urlopen(req) as r:
            out["csv"] = r.read().decode()
        if shots:
            d.save_screenshot(shots + "/segments.png")
    finally:
        d.quit()
    return out


def campaigns(base, shots):
    """Marketing creates a campaign for a saved segment with the mouse: a wrong holdout refused,
    then a 20% holdout starting now; watches it send; pauses a second one scheduled for later."""
    from selenium.webdriver.support.ui import Select
    out = {}
    d = browser(1280, 1100)

    def notice():
        return css(d, ".notice")[0].text if css(d, ".notice") else ""

    def states():
        return {r.get_attribute("data-state"): r.find_elements("css selector", "td")[2].text for r in css(d, "#states tr[data-state]")}

    try:
        sign_in(d, base, "anna", "anna-secret-1")
        d.get(base + "/campaigns")
        out["empty"] = bool(css(d, "#no-campaigns"))
        out["mail_note"] = bool(css(d, "#mail-note"))
        set_field(d, "name", "Coffee week")
        Select(by_id(d, "segment")).select_by_value("everyone")
        set_field(d, "holdout", "60")
        set_field(d, "link", "https://shop.example.com/coffee")
        submit(d, "create", "h1")
        out["refused"] = notice()
        out["kept_name"] = by_id(d, "name").get_attribute("value")
        set_field(d, "holdout", "20")
        submit(d, "create", "#state")
        out["created"] = notice()
        deadline = time.time() + 40
        while time.time() < deadline:
            d.get(d.current_url.split("&")[0])
            if by_id(d, "state").text == "sent":
                break
            time.sleep(0.5)
        out["state"] = by_id(d, "state").text
        out["targeted"] = by_id(d, "targeted").text
        out["held_out"] = by_id(d, "held-out").text
        out["states"] = states()
        if shots:
            d.save_screenshot(shots + "/campaign.png")
        d.get(base + "/campaigns")
        set_field(d, "name", "Next month")
        set_field(d, "link", "https://shop.example.com/next")
        Select(by_id(d, "channels")).select_by_value("both")
        set_field(d, "offerName", "10% off dairy")
        set_field(d, "offerMultiple", "2")
        set_field(d, "offerPercent", "10")
        set_field(d, "offerCategories", "Dairy")
        set_field(d, "offerMinSpend", "5.00")
        set_field(d, "offerUses", "3")
        d.execute_script("document.getElementById('starts').value = '2099-01-01T09:00'; document.getElementById('ends').value = '2099-01-31'")
        # Points and a percent off at once: refused, the form kept.
        submit(d, "create", ".notice")
        out["one_thing"] = notice()
        out["kept_percent"] = by_id(d, "offerPercent").get_attribute("value")
        set_field(d, "offerMultiple", "")
        Select(by_id(d, "channels")).select_by_value("both")
        d.execute_script("document.getElementById('starts').value = '2099-01-01T09:00'; document.getElementById('ends').value = '2099-01-31'")
        submit(d, "create", "#state")
        out["scheduled"] = by_id(d, "state").text
        out["offer"] = by_id(d, "offer").text
        out["channels"] = by_id(d, "channels").text
        submit(d, "pause", "#state")
        out["paused"] = by_id(d, "state").text
        out["paused_notice"] = notice()
        submit(d, "resume", "#state")
        out["resumed"] = by_id(d, "state").text
        d.get(base + "/campaigns")
        out["listed"] = {r.get_attribute("data-campaign"): r.find_element("css selector", ".state").text for r in css(d, "#campaigns tr[data-campaign]")}
        if shots:
            d.save_screenshot(shots + "/campaigns.png")
        by_id(d, "programme-link").click()
        out["months"] = [r.get_attribute("data-month") for r in css(d, "#months tr[data-month]")]
        # Custom events: a wrong number of points refused (the form kept), then saved; then switched off.
        d.get(base + "/events")
        out["events_empty"] = bool(css(d, "#no-events"))
        set_field(d, "code", "review-posted")
        set_field(d, "name", "Review posted")
        set_field(d, "points", "lots")
        submit(d, "save-event", ".notice")
        out["events_refused"] = notice()
        out["events_kept"] = by_id(d, "code").get_attribute("value")
        set_field(d, "points", "50")
        set_field(d, "perMonth", "3")
        submit(d, "save-event", "#events")
        out["events_saved"] = notice()
        css(d, "#events tr[data-event='review-posted'] a")[0].click()
        by_id(d, "active").click()
        submit(d, "save-event", "#events")
        out["events_rows"] = {r.get_attribute("data-event"): [r.find_elements("css selector", "td")[1].text, r.find_elements("css selector", "td")[2].text,
                                                               r.find_element("css selector", ".state").text] for r in css(d, "#events tr[data-event]")}
        # Surveys on receipts: the points and days, a wrong one refused first; then the Feedback page.
        set_field(d, "feedbackPoints", "25")
        set_field(d, "feedbackDays", "0")
        submit(d, "save-feedback", ".notice")
        out["feedback_refused"] = notice()
        set_field(d, "feedbackDays", "10")
        submit(d, "save-feedback", ".notice")
        out["feedback_saved"] = notice()
        # Referrals: a wrong number refused (what was keyed kept), then saved.
        set_field(d, "referrerPoints", "lots")
        submit(d, "save-referrals", ".notice")
        out["referral_refused"] = notice()
        out["referral_kept"] = by_id(d, "referrerPoints").get_attribute("value")
        set_field(d, "referrerPoints", "250")
        set_field(d, "minSpend", "15.00")
        submit(d, "save-referrals", ".notice")
        out["referral_saved"] = notice()
        out["referral_counts"] = by_id(d, "referral-counts").text
        if shots:
            d.save_screenshot(shots + "/events.png")
        d.get(base + "/feedback")
        out["feedback_empty"] = bool(css(d, "#no-answers")) and bool(css(d, "#no-comments"))
        set_field(d, "q", "bread")
        submit(d, "search", "#feedback-filter")
        out["feedback_query"] = by_id(d, "q").get_attribute("value")
        # Cross-sell suggestions: a wrong number of days refused (kept), the settings saved, mined now.
        d.get(base + "/suggestions")
        set_field(d, "days", "5")
        submit(d, "save-settings", ".notice")
        out["suggest_refused"] = notice()
        out["suggest_kept"] = by_id(d, "days").get_attribute("value")
        set_field(d, "days", "30")
        submit(d, "save-settings", ".notice")
        out["suggest_saved"] = notice()
        submit(d, "mine-now", "#runs")
        out["suggest_mined"] = notice()
        out["suggest_runs"] = [[r.get_attribute("data-scope"), r.find_element("css selector", ".hit").text, r.find_element("css selector", ".baseline").text]
                               for r in css(d, "#runs tr[data-scope]")]
        set_field(d, "q", "D0000000010")
        submit(d, "show-pairs", "#pairs")
        out["suggest_pairs"] = [r.get_attribute("data-pair") for r in css(d, "#pairs tr[data-pair]")]
        if shots:
            d.save_screenshot(shots + "/suggestions.png")
    finally:
        d.quit()
    return out


def fraud(base, shots):
    """The fraud analyst tunes a rule (a wrong threshold refused first), works the alert it raised
    (evidence, notes, status, holding the card's points) and evaluates the rules on a generated
    month; a marketing manager is refused the pages."""
    from selenium.webdriver.support.ui import Select
    out = {}
    opener, _ = client()
    login(opener, base, "anna", "anna-secret-1")
    out["marketing_status"] = call(opener, base + "/fraud")[0]
    d = browser(1280, 1000)

    def notice():
        return css(d, ".notice")[0].text if css(d, ".notice") else ""

    def figures():
        return {r.get_attribute("data-rule"): [c.text for c in r.find_elements("css selector", "td")][2:] for r in css(d, "#rule-figures tr[data-rule]")}

    try:
        sign_in(d, base, "fiona", "fiona-secret-1")
        d.get(base + "/fraud")
        out["nav"] = [a.text for a in css(d, "header a")]
        out["figures_before"] = figures()
        set_field(d, "threshold-card-sales-hour", "0")
        submit(d, "save-card-sales-hour", "h1")
        out["refused"] = notice()
        set_field(d, "threshold-card-sales-hour", "4")
        Select(by_id(d, "action-card-sales-hour")).select_by_value("hold")
        submit(d, "save-card-sales-hour", "h1")
        out["saved"] = notice()
        d.get(base + "/fraud/alerts?status=open")
        out["alerts"] = [[c.text for c in r.find_elements("css selector", "td")] for r in css(d, "#alerts tr[data-alert]")]
        css(d, "#alerts tr[data-alert] a")[0].click()
        out["figures"] = by_id(d, "figures").text
        out["evidence"] = len(css(d, "#evidence tr")) - 1
        Select(by_id(d, "case-status-select")).select_by_value("investigating")
        set_field(d, "note", "Six sales in an hour: asked the store for the CCTV")
        submit(d, "save-case", "h1")
        out["case_saved"] = notice()
        submit(d, "hold-card", "h1")
        out["held"] = notice()
        Select(by_id(d, "case-status-select")).select_by_value("confirmed")
        set_field(d, "note", "The card was lent to a friend")
        submit(d, "save-case", "h1")
        out["status"] = by_id(d, "case-status").text
        out["notes"] = [[c.text for c in r.find_elements("css selector", "td")] for r in css(d, "#notes tr")[1:]]
        if shots:
            d.save_screenshot(shots + "/fraud-case.png")
        d.get(base + "/fraud")
        submit(d, "evaluate", "h1", timeout=240)
        out["evaluated"] = notice()
        out["figures_after"] = figures()
        if shots:
            d.save_screenshot(shots + "/fraud.png")
    finally:
        d.quit()
    return out


if __name__ == "__main__":
    scenario, arg = sys.argv[1], sys.argv[2]
    rest = sys.argv[3:]
    if scenario == "publish":
        result = publish(arg, rest[0] if rest else "")
    elif scenario == "member":
        result = member(arg, rest[0], rest[1])
    elif scenario == "service":
        result = service(arg, rest[0], rest[1] if len(rest) > 1 else "")
    elif scenario == "bad-input":
        result = bad_input(arg, rest[0])
    elif scenario == "security":
        result = security(arg)
    elif scenario == "catalog-scope":
        result = catalog_scope(arg, rest[0])
    elif scenario == "scoping":
        result = scoping(arg, rest[0], rest[1])
    elif scenario == "coalition":
        result = coalition(arg, rest[0] if rest else "")
    elif scenario == "reports":
        result = reports(arg, rest[0] if rest else "")
    elif scenario == "segments":
        result = segments(arg, rest[0] if rest else "")
    elif scenario == "campaigns":
        result = campaigns(arg, rest[0] if rest else "")
    elif scenario == "cashback":
        result = cashback(arg, rest[0] if rest else "")
    elif scenario == "fraud":
        result = fraud(arg, rest[0] if rest else "")
    elif scenario == "till-shot":
        result = till_shot(arg, rest[0])
    else:
        raise SystemExit("unknown scenario " + scenario)
    print(json.dumps(result))
