import Foundation
import Mustache
import TillProtocol

/// The back office's pages are mustache templates in `BackOffice/templates`, compiled into the
/// binary (Package.swift lists each file):
/// - `layout` is every page's frame (navigation for the user's role, title, notice) with a
///   `content` block that each page template fills (`{{<layout}}{{$content}}…`);
/// - `field`, `scope-picker`, `publications` and `segment-state` are partials, `style` the stylesheet;
/// - each other template is one page, drawn from one of the value types below.
///
/// `{{name}}` escapes HTML, so a product called `<script>` is shown as text; no template uses the
/// unescaped form. A value left out of a view type is looked up in the enclosing ones (mustache's
/// context stack), so the names here are kept distinct (`fieldError`, not `error`).
enum BackOfficeTemplates {
    static let sources: [String: [UInt8]] = [
        "layout": PackageResources.layout_mustache, "style": PackageResources.backoffice_css,
        "field": PackageResources.field_mustache, "scope-picker": PackageResources.scope_picker_mustache,
        "publications": PackageResources.publications_mustache, "message": PackageResources.message_mustache,
        "login": PackageResources.login_mustache, "overview": PackageResources.overview_mustache,
        "programme": PackageResources.programme_mustache, "programme-preview": PackageResources.programme_preview_mustache,
        "programme-diff": PackageResources.programme_diff_mustache, "catalog": PackageResources.catalog_mustache,
        "catalog-item": PackageResources.catalog_item_mustache, "settings": PackageResources.settings_mustache,
        "rollout": PackageResources.rollout_mustache, "receipts": PackageResources.receipts_mustache,
        "customers": PackageResources.customers_mustache, "customer": PackageResources.customer_mustache,
        "member-layout": PackageResources.member_layout_mustache, "member-style": PackageResources.member_style_mustache,
        "member-signin": PackageResources.member_signin_mustache, "member-code": PackageResources.member_code_mustache,
        "member-home": PackageResources.member_home_mustache,
        "reason": PackageResources.reason_mustache, "decide": PackageResources.decide_mustache, "approvals": PackageResources.approvals_mustache,
        "partners": PackageResources.partners_mustache, "settlement": PackageResources.settlement_mustache,
        "reports": PackageResources.reports_mustache, "cashback": PackageResources.cashback_mustache,
        "segments": PackageResources.segments_mustache, "segment": PackageResources.segment_mustache,
        "segment-state": PackageResources.segment_state_mustache, "campaigns": PackageResources.campaigns_mustache,
        "campaign": PackageResources.campaign_mustache, "programme-months": PackageResources.programme_months_mustache,
        "events": PackageResources.events_mustache, "feedback": PackageResources.feedback_mustache,
        "suggestions": PackageResources.suggestions_mustache,
        "fraud": PackageResources.fraud_mustache, "fraud-alerts": PackageResources.fraud_alerts_mustache, "fraud-case": PackageResources.fraud_case_mustache,
    ]

    /// Parsed once. The templates are part of the program, not input: one that does not parse is
    /// a build defect, which `BackOfficeTemplateTests` catches before it ships.
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, bytes) in sources {
            do { try library.register(String(decoding: bytes, as: UTF8.self), named: name) } catch {
                fatalError("back office template \(name) does not parse: \(error)")
            }
        }
        return library
    }()

    /// A page drawn from its template; the stylesheet is a partial, not a page.
    static func render(_ template: String, _ page: Any) -> String {
        guard template != "style", template != "member-style", let html = library.render(page, withTemplate: template) else {
            return "<!doctype html><title>Head office</title><p>This page is missing from head office (template \(template)).</p>"
        }
        return html
    }
}

// MARK: The layout's values

/// What the layout draws around every page.
struct Frame: Sendable {
    struct NavLink: Sendable { var href: String, label: String, on: Bool }
    struct Who: Sendable { var username: String, roleLabel: String, storeID: String? }
    struct Notice: Sendable { var text: String, isError: Bool }

    var title: String
    var nav: [NavLink] = []
    var who: Who?
    var csrf: String = ""
    var notice: Notice?

    static let links: [(String, String, Set<BackOfficeRole>)] = [
        ("/", "Overview", BackOfficeRole.tillRoles), ("/programme", "Programme", [.admin, .marketing]),
        ("/catalog", "Catalog & prices", BackOfficeRole.tillRoles), ("/settings", "Terminal settings", BackOfficeRole.tillRoles),
        ("/rollout", "Rollout", BackOfficeRole.tillRoles), ("/customers", "Customers", BackOfficeRole.customerRoles),
        ("/approvals", "Approvals", [.admin, .service]), ("/partners", "Partners", [.admin, .marketing]),
        ("/settlement", "Settlement", [.admin, .marketing]), ("/cashback", "Cashback", [.admin, .marketing]),
        ("/segments", "Segments", [.admin, .marketing]), ("/campaigns", "Campaigns", [.admin, .marketing]),
        ("/events", "Events", [.admin, .marketing]), ("/feedback", "Feedback", [.admin, .marketing, .store]),
        ("/suggestions", "Suggestions", [.admin, .marketing]), ("/fraud", "Fraud", [.admin, .fraud]),
        ("/reports", "Reports", BackOfficeRole.tillRoles),
        ("/receipts", "Receipts", Set(BackOfficeRole.allCases)),
    ]

    /// The frame for a signed-in user (their role's links, `active` marked), or for nobody.
    init(_ title: String, session: BackOfficeSession?, active: String = "", notice: (String, Bool)? = nil) {
        self.title = title
        self.notice = notice.map { Notice(text: $0.0, isError: $0.1) }
        guard let session else { return }
        let user = session.user
        nav = Self.links.filter { $0.2.contains(user.role) }.map { NavLink(href: $0.0, label: $0.1, on: $0.0 == active) }
        who = Who(username: user.username, roleLabel: user.role.label, storeID: user.storeID)
        csrf = session.csrf
    }
}

/// A labelled input, its hint and its error (the `field` partial).
struct FieldView: Sendable {
    var name: String, label: String, value: String
    var inputType = "text"
    var fieldHint: String?
    var fieldError: String?

    init(_ name: String, _ label: String, _ value: String, errors: [String: String] = [:], hint: String? = nil) {
        self.name = name
        self.label = label
        self.value = value
        fieldHint = hint
        fieldError = errors[name]
    }
}

/// One choice of the `scope-picker` partial.
struct ScopeOption: Sendable { var value: String, label: String }

extension ScopeOption {
    /// Where a user may publish: a store manager only their store and its tills.
    static func choices(for user: BackOfficeUser, stores: [String], groups: [String], tills: [String]) -> [ScopeOption] {
        if user.role != .store {
            return [ScopeOption(value: "chain", label: "Every store (chain)")]
                + groups.map { ScopeOption(value: "group:" + $0, label: "Store group " + $0) }
                + stores.map { ScopeOption(value: "store:" + $0, label: "Store " + $0) }
                + tills.map { ScopeOption(value: "till:" + $0, label: "Till " + $0) }
        }
        guard let s = user.storeID else { return [] }
        return [ScopeOption(value: "store:" + s, label: "Store " + s)]
            + tills.filter { $0.hasPrefix(s + "/") }.map { ScopeOption(value: "till:" + $0, label: "Till " + $0) }
    }
}

/// One row of the `publications` partial.
struct PublicationRow: Sendable {
    var version: Int64, kind: String, scope: String, createdBy: String, effectiveAt: String, note: String

    init(_ p: Publication) {
        version = p.version
        kind = p.kind.rawValue
        scope = p.scope.description
        createdBy = p.createdBy
        effectiveAt = ProtocolTime.format(p.effectiveAt, timeZone: TimeZone(identifier: "UTC")!)
        note = p.note
    }
}

// MARK: Pages

struct MessagePage: Sendable { var frame: Frame; var back: String? }
struct LoginPage: Sendable { var frame: Frame; var nonce: String }

struct OverviewPage: Sendable {
    var frame: Frame
    var current: Int, tills: Int
    var publications: [PublicationRow]
    var anyPublications: Bool
}
