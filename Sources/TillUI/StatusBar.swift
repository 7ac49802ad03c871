import Foundation
public import TillCore

/// The status bar at any width: full words when they fit; at 80 columns the same facts
/// abbreviated (offline and unsent, printer and config version are never the ones cut).
public enum StatusBar {
    public static func fit(cashier: Cashier?, items: [String], width: Int) -> String {
        let who = cashier.map { "Cashier \($0.number) \($0.name)" } ?? "Signed off"
        let whoShort = cashier.map { "C\($0.number)" } ?? "Off"
        let short = items.map(abbreviated)
        // Times without their seconds, last.
        let shorter = short.map { $0.replacingOccurrences(of: #"(\d\d:\d\d):\d\d"#, with: "$1", options: .regularExpression) }
        let candidates = [([who] + items, " | "), ([whoShort] + items, " | "), ([who] + short, " | "), ([whoShort] + short, " | "),
                          ([whoShort] + short, "|"), ([whoShort] + shorter, "|")]
        for (parts, separator) in candidates {
            let text = parts.joined(separator: separator)
            if text.count <= width { return text }
        }
        return String(([whoShort] + shorter).joined(separator: "|").prefix(width))
    }

    /// One status item in as few characters as say the same.
    static func abbreviated(_ item: String) -> String {
        var s = item
        for (long, short) in [("Printer: ", "Prn "), ("Unsent: ", "Unsent "), (" (oldest ", " "), ("Head office: ", "HO "),
                              ("last contact ", ""), ("no contact yet", "never"), ("offline, ", "OFFLINE "), ("connecting", "…"),
                              (" waiting)", "w)"), ("REJECTED: ", "REJ "), (" (till sync status)", ""), ("Config v", "Cfg v"), ("Programme: ", "Prog ")] {
            s = s.replacingOccurrences(of: long, with: short)
        }
        // A long reason in brackets is for `till sync status`, not the bar.
        if let open = s.firstIndex(of: "("), s.hasSuffix(")"), s.distance(from: open, to: s.endIndex) > 24 {
            s = String(s[..<open]).trimmingCharacters(in: .whitespaces)
        }
        if s.hasPrefix("Unsent "), s.hasSuffix(")") { s.removeLast() }
        return s
    }
}
