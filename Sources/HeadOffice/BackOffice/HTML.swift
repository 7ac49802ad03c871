import Foundation

/// HTML for the back office: every value from data goes through `esc`, so a product called
/// `<script>` is shown as text, never run. No JavaScript: every page works with a mouse alone.
enum HTML {
    static func esc(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static let css = """
        *{box-sizing:border-box}body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2430;background:#f4f6f9}
        header{background:#1f3a5f;color:#fff;padding:10px 18px;display:flex;flex-wrap:wrap;align-items:center;gap:14px}
        header a{color:#fff;text-decoration:none;padding:6px 10px;border-radius:4px}header a.on,header a:hover{background:#31557f}
        header .who{margin-left:auto;font-size:13px;opacity:.9}header form{display:inline}
        main{max-width:1180px;margin:18px auto;padding:0 16px}h1{font-size:22px;margin:4px 0 14px}h2{font-size:17px;margin:22px 0 8px}
        .card{background:#fff;border:1px solid #d9dee6;border-radius:6px;padding:14px 16px;margin-bottom:14px}
        table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid #e3e7ee;padding:6px 8px;text-align:left;vertical-align:top}
        th{background:#eef1f6;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        label{display:block;font-weight:600;margin:8px 0 2px}input[type=text],input[type=password],input[type=number],input[type=datetime-local],select,textarea{width:100%;max-width:420px;padding:7px 8px;border:1px solid #b8c0cc;border-radius:4px;font:inherit}
        textarea{max-width:100%;min-height:90px;font-family:ui-monospace,monospace}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:4px 16px}
        button,.button{background:#1f6feb;color:#fff;border:0;border-radius:4px;padding:8px 14px;font:inherit;cursor:pointer;text-decoration:none;display:inline-block;margin:10px 6px 0 0}
        button.secondary{background:#5b6778}button.danger{background:#b42318}
        .err{color:#b42318;font-size:13px;margin-top:2px}.bad{border-color:#b42318!important;background:#fff5f4}
        .notice{padding:10px 14px;border-radius:5px;margin-bottom:14px}.notice.ok{background:#e7f6ec;border:1px solid #9fd8b1}.notice.error{background:#fdecea;border:1px solid #f0a8a0}
        .muted{color:#5b6778;font-size:13px}.pill{display:inline-block;padding:1px 8px;border-radius:10px;background:#eef1f6;font-size:12px}
        .pending{background:#fff4d6}.current{background:#e7f6ec}
        @media (max-width:800px){header{gap:6px}main{margin:10px auto}th,td{padding:5px}}
        """

    /// A whole page: the navigation for the user's role, the notice, the body.
    static func page(_ title: String, user: BackOfficeUser?, csrf: String?, active: String = "", notice: (String, Bool)? = nil, _ body: String) -> String {
        var nav = ""
        if let user {
            var links = [("/", "Overview"), ("/programme", "Programme"), ("/catalog", "Catalog & prices"), ("/settings", "Terminal settings"),
                         ("/rollout", "Rollout"), ("/receipts", "Receipts")]
            if user.role == .store { links.removeAll { $0.0 == "/programme" } }
            nav = links.map { "<a href=\"\($0.0)\"\($0.0 == active ? " class=\"on\"" : "")>\(esc($0.1))</a>" }.joined()
            nav += "<span class=\"who\">\(esc(user.username)) · \(esc(user.role.label))\(user.storeID.map { " · store " + esc($0) } ?? "")"
            nav += " <form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"\(esc(csrf ?? ""))\"><button class=\"secondary\" style=\"margin:0 0 0 8px;padding:4px 10px\">Sign out</button></form></span>"
        }
        let n = notice.map { "<div class=\"notice \($0.1 ? "error" : "ok")\">\(esc($0.0))</div>" } ?? ""
        return """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <title>\(esc(title)) · Head office</title><style>\(css)</style></head>
            <body><header><strong>Head office</strong>\(nav)</header><main><h1>\(esc(title))</h1>\(n)\(body)</main></body></html>
            """
    }

    /// A labelled input with its error (if any) under it; `name` is the programme's field path.
    static func field(_ name: String, _ label: String, _ value: String, errors: [String: String], type: String = "text", hint: String? = nil) -> String {
        let e = errors[name]
        return "<div><label for=\"\(esc(name))\">\(esc(label))</label><input type=\"\(type)\" id=\"\(esc(name))\" name=\"\(esc(name))\" value=\"\(esc(value))\"\(e == nil ? "" : " class=\"bad\"")>"
            + (hint.map { "<div class=\"muted\">\(esc($0))</div>" } ?? "") + (e.map { "<div class=\"err\" data-field=\"\(esc(name))\">\(esc($0))</div>" } ?? "") + "</div>"
    }

    static func csrfField(_ csrf: String) -> String { "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(csrf))\">" }

    /// The scope picker: a store manager sees only their store.
    static func scopePicker(user: BackOfficeUser, stores: [String], groups: [String], tills: [String]) -> String {
        var options: [(String, String)] = []
        if user.role != .store {
            options.append(("chain", "Every store (chain)"))
            options += groups.map { ("group:" + $0, "Store group " + $0) }
            options += stores.map { ("store:" + $0, "Store " + $0) }
            options += tills.map { ("till:" + $0, "Till " + $0) }
        } else if let s = user.storeID {
            options.append(("store:" + s, "Store " + s))
            options += tills.filter { $0.hasPrefix(s + "/") }.map { ("till:" + $0, "Till " + $0) }
        }
        let opts = options.map { "<option value=\"\(esc($0.0))\">\(esc($0.1))</option>" }.joined()
        return """
            <div class="grid"><div><label for="scope">Publish to</label><select id="scope" name="scope">\(opts)</select></div>
            <div><label for="at">In force from (UTC; empty: now)</label><input type="datetime-local" id="at" name="at"></div>
            <div><label for="note">Note for the tills</label><input type="text" id="note" name="note" maxlength="120"></div></div>
            """
    }
}
