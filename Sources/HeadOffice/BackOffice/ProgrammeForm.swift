import Foundation
import TillCore

/// The programme editor's fields, named by the programme's own field paths (so the validation
/// messages land next to their field), with amounts and percentages as people write them.
enum ProgrammeForm {
    static func money(_ minor: Int64, _ c: Currency) -> String { c.format(minor) }
    static func percent(_ bp: Int64) -> String { TaxRate(code: "", basisPoints: bp).percentText }

    static func values(_ p: LoyaltyProgramme) -> [String: String] {
        let c = Currency(code: p.currency) ?? .eur
        var v: [String: String] = [
            "name": p.name, "version": p.version,
            "earn.pointsPerUnit": p.earn.pointsPerUnit.description, "earn.unitMinor": money(p.earn.unitMinor, c),
            "welcomeBonus": p.welcomeBonus.description, "redemption.minimumPoints": p.redemption.minimumPoints.description,
            "redemption.maxShareBP": percent(p.redemption.maxShareBP), "redemption.offlineCapPoints": p.redemption.offlineCapPoints.description,
        ]
        let spend = p.tierQualification.basis == .spend
        for (i, t) in p.tiers.enumerated() {
            v["tiers[\(i)].code"] = t.code
            v["tiers[\(i)].name"] = t.name
            v["tiers[\(i)].threshold"] = spend ? money(t.threshold, c) : String(t.threshold)
            v["tiers[\(i)].earnMultiplierBP"] = percent(t.earnMultiplierBP)
            v["tiers[\(i)].discountBP"] = percent(t.discountBP)
        }
        for (i, b) in p.redemption.bands.enumerated() {
            v["redemption.bands[\(i)].minPoints"] = b.minPoints.description
            v["redemption.bands[\(i)].minorPer100Points"] = money(b.minorPer100Points, c)
        }
        for (i, r) in p.cardRanges.enumerated() {
            v["cardRanges[\(i)].name"] = r.name
            v["cardRanges[\(i)].prefix"] = r.prefix
            v["cardRanges[\(i)].length"] = String(r.length)
        }
        for (i, ch) in p.challenges.enumerated() {
            let k = "challenges[\(i)]."
            v[k + "id"] = ch.id
            v[k + "name"] = ch.name
            v[k + "measure"] = ch.measure.rawValue
            v[k + "skus"] = ch.skus.joined(separator: ", ")
            v[k + "categories"] = ch.categories.joined(separator: ", ")
            v[k + "target"] = ch.measure == .spend ? money(ch.target, c) : String(ch.target)
            v[k + "window"] = ch.window.rawValue
            v[k + "length"] = String(ch.length)
            v[k + "maxCompletions"] = String(ch.maxCompletions)
            v[k + "optIn"] = ch.optIn ? "yes" : "no"
            v[k + "rewardPoints"] = ch.rewardPoints.description
            v[k + "badge"] = ch.badge ?? ""
            v[k + "starts"] = ch.starts
            v[k + "ends"] = ch.ends
        }
        return v
    }

    static let challengeKeys = ["id", "name", "measure", "skus", "categories", "target", "window", "length", "maxCompletions", "optIn", "rewardPoints",
                                "badge", "starts", "ends"]

    /// The programme the form describes (the rules it does not show come from `base`), and the
    /// problems by field. The programme is nil unless there are none.
    static func parse(_ f: [String: String], base: LoyaltyProgramme) -> (LoyaltyProgramme?, [String: String]) {
        var p = base
        var errors: [String: String] = [:]
        let c = Currency(code: base.currency) ?? .eur
        func text(_ k: String) -> String { (f[k] ?? "").trimmingCharacters(in: .whitespaces) }
        func int(_ k: String) -> Int64? {
            let t = text(k)
            guard let v = Int64(t) else { errors[k] = "'\(t)' is not a whole number"; return nil }
            return v
        }
        func points(_ k: String) -> Points? { int(k).map { Points($0) } }
        func amount(_ k: String) -> Int64? {
            let t = text(k)
            guard let v = c.parse(t) else { errors[k] = "'\(t)' is not an amount such as 1.00"; return nil }
            return v
        }
        func pct(_ k: String) -> Int64? {
            guard let v = basisPoints(text(k)) else { errors[k] = "'\(text(k))' is not a percentage such as 125%"; return nil }
            return v
        }
        p.name = text("name")
        p.version = text("version")
        if let v = points("earn.pointsPerUnit") { p.earn.pointsPerUnit = v }
        if let v = amount("earn.unitMinor") { p.earn.unitMinor = v }
        if let v = points("welcomeBonus") { p.welcomeBonus = v }
        if let v = points("redemption.minimumPoints") { p.redemption.minimumPoints = v }
        if let v = pct("redemption.maxShareBP") { p.redemption.maxShareBP = v }
        if let v = points("redemption.offlineCapPoints") { p.redemption.offlineCapPoints = v }
        func rows(_ prefix: String, _ keys: [String]) -> [Int] {
            (0..<50).filter { i in keys.contains { !text("\(prefix)[\(i)].\($0)").isEmpty } }
        }
        let spend = base.tierQualification.basis == .spend
        var tiers: [LoyaltyProgramme.Tier] = []
        for i in rows("tiers", ["code", "name", "threshold", "earnMultiplierBP", "discountBP"]) {
            let k = "tiers[\(tiers.count)]", src = "tiers[\(i)]"
            let threshold = spend ? amount(src + ".threshold") : int(src + ".threshold")
            let m = pct(src + ".earnMultiplierBP"), d = pct(src + ".discountBP")
            if src != k { for key in ["threshold", "earnMultiplierBP", "discountBP"] { if let e = errors.removeValue(forKey: "\(src).\(key)") { errors["\(k).\(key)"] = e } } }
            tiers.append(.init(code: text(src + ".code"), name: text(src + ".name"), threshold: threshold ?? 0, earnMultiplierBP: m ?? 10_000, discountBP: d ?? 0))
        }
        p.tiers = tiers
        var bands: [LoyaltyProgramme.Band] = []
        for i in rows("redemption.bands", ["minPoints", "minorPer100Points"]) {
            let src = "redemption.bands[\(i)]"
            bands.append(.init(minPoints: points(src + ".minPoints") ?? 0, minorPer100Points: amount(src + ".minorPer100Points") ?? 0))
        }
        p.redemption.bands = bands
        var ranges: [CardRange] = []
        for i in rows("cardRanges", ["name", "prefix", "length"]) {
            let src = "cardRanges[\(i)]"
            let length = int(src + ".length").map(Int.init) ?? 16
            ranges.append(CardRange(name: text(src + ".name"), prefix: text(src + ".prefix"), length: length))
        }
        p.cardRanges = ranges
        var challenges: [Challenge] = []
        for i in rows("challenges", challengeKeys) {
            let src = "challenges[\(i)]", k = "challenges[\(challenges.count)]"
            let measure = Challenge.Measure(rawValue: text(src + ".measure").lowercased())
            if measure == nil { errors[src + ".measure"] = "'\(text(src + ".measure"))' is not visits, spend or items" }
            let window = Challenge.Window(rawValue: text(src + ".window").lowercased())
            if window == nil { errors[src + ".window"] = "'\(text(src + ".window"))' is not days, week, month or streak" }
            let target = measure == .spend ? amount(src + ".target") : int(src + ".target")
            let optIn = text(src + ".optIn").lowercased()
            if !["", "yes", "no"].contains(optIn) { errors[src + ".optIn"] = "'\(text(src + ".optIn"))' is not yes or no" }
            let list = { (key: String) in text(src + key).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
            let length = text(src + ".length").isEmpty ? 0 : int(src + ".length")
            let most = text(src + ".maxCompletions").isEmpty ? 1 : int(src + ".maxCompletions")
            let reward = text(src + ".rewardPoints").isEmpty ? 0 : int(src + ".rewardPoints")
            let badge = text(src + ".badge")
            if src != k { for key in challengeKeys { if let e = errors.removeValue(forKey: "\(src).\(key)") { errors["\(k).\(key)"] = e } } }
            challenges.append(Challenge(id: text(src + ".id"), name: text(src + ".name"), measure: measure ?? .visits, skus: list(".skus"),
                                        categories: list(".categories"), target: target ?? 1, window: window ?? .days, length: length ?? 0,
                                        maxCompletions: most ?? 1, optIn: optIn == "yes", rewardPoints: Points(reward ?? 0), badge: badge.isEmpty ? nil : badge,
                                        starts: text(src + ".starts"), ends: text(src + ".ends")))
        }
        p.challenges = challenges
        for issue in p.validate() where errors[issue.field] == nil {
            // A message about a whole row (e.g. "tiers[1]") goes next to its first field.
            errors[issue.field] = issue.message
        }
        return (errors.isEmpty ? p : nil, errors)
    }

    /// "125%", "125", "12.5%" → basis points (12500, 12500, 1250); at most two decimals.
    static func basisPoints(_ text: String) -> Int64? {
        var t = text
        if t.hasSuffix("%") { t.removeLast() }
        let negative = t.hasPrefix("-")
        if negative { t.removeFirst() }
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 9, parts[0].allSatisfy({ $0.isASCII && $0.isNumber }), let whole = Int64(parts[0]) else { return nil }
        var frac: Int64 = 0
        if parts.count == 2 {
            guard (1...2).contains(parts[1].count), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            frac = Int64(parts[1])! * (parts[1].count == 1 ? 10 : 1)
        }
        return (whole * 100 + frac) * (negative ? -1 : 1)
    }

    /// What differs between two programmes, field by field, as people read them.
    static func diff(from old: LoyaltyProgramme, to new: LoyaltyProgramme) -> [(field: String, old: String, new: String)] {
        let a = values(old), b = values(new)
        var out: [(String, String, String)] = []
        for k in Set(a.keys).union(b.keys).sorted() where a[k] != b[k] {
            out.append((k, a[k] ?? "—", b[k] ?? "—"))
        }
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        func rules(_ p: LoyaltyProgramme) -> String {
            String(decoding: (try? e.encode([String(decoding: (try? e.encode(p.bonuses)) ?? Data(), as: UTF8.self),
                                             String(decoding: (try? e.encode(p.promotions)) ?? Data(), as: UTF8.self),
                                             String(decoding: (try? e.encode(p.quantityRules)) ?? Data(), as: UTF8.self),
                                             String(decoding: (try? e.encode(p.nthPurchaseRules)) ?? Data(), as: UTF8.self)])) ?? Data(), as: UTF8.self)
        }
        if rules(old) != rules(new) { out.append(("bonuses, promotions and other rules", "as published", "changed")) }
        return out
    }
}
