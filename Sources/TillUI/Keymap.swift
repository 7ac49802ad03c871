/// Which key does what. POS keyboards have programmable keys, so the keymap comes from the
/// configuration file (`[keymap]`); anything not configured keeps its default.
public struct Keymap: Sendable, Equatable {
    public private(set) var bindings: [Key: TillAction]

    /// The default keys (README "Keymap").
    public static let defaultKeys: [TillAction: [String]] = [
        .help: ["F1", "?"],
        .voidLine: ["F2"],
        .lineDiscount: ["F3"],
        .saleDiscount: ["F4"],
        .total: ["F5", "+"],
        .cash: ["F6"],
        .card: ["F7"],
        .split: ["F8"],
        .suspendResume: ["F9"],
        .cancelSale: ["F10", "Ctrl-X"],
        .signOff: ["F12"],
        .quantity: ["*"],
        .clear: ["Esc"],
        .lineUp: ["Up"],
        .lineDown: ["Down"],
        .pageUp: ["PgUp"],
        .pageDown: ["PgDn"],
        .reprint: ["F11", "Ctrl-R"],
        .quit: ["Ctrl-Q"],
        .points: ["Ctrl-P"],
        .newCard: ["Ctrl-N"],
        .findCustomer: ["Ctrl-F"],
        .pointsDetail: ["Ctrl-E"],
        .refund: ["Ctrl-U"],
        .cashOffice: ["Ctrl-O"],
        .priceOverride: ["Ctrl-K"],
        .lock: ["Ctrl-L"],
        .removeCard: ["Ctrl-D"],
        .messages: ["Ctrl-G"],
        .lookup: ["Ctrl-T"],
    ]

    public static let standard = try! Keymap(overrides: [:])

    public struct Problem: Error, Equatable, CustomStringConvertible {
        public var message: String
        public init(message: String) { self.message = message }
        public var description: String { message }
    }

    /// Builds the keymap from `[keymap]` entries (action name → key names), over the defaults.
    public init(overrides: [String: [String]]) throws(Problem) {
        var keys: [TillAction: [String]] = Self.defaultKeys
        for (name, names) in overrides {
            guard let action = TillAction(rawValue: name) else {
                let known = TillAction.allCases.map(\.rawValue).sorted().joined(separator: ", ")
                throw Problem(message: "[keymap] '\(name)' is not a till action: use one of \(known)")
            }
            keys[action] = names
        }
        var bindings: [Key: TillAction] = [:]
        for action in TillAction.allCases {
            for name in keys[action] ?? [] {
                guard let key = Key(name: name) else {
                    throw Problem(message: "[keymap] \(action.rawValue) = '\(name)' is not a key name: use e.g. F5, Enter, Esc, Up, PgDn, Ctrl-X or a single character")
                }
                guard !key.isEntryCharacter, key != .enter, key != .backspace else {
                    throw Problem(message: "[keymap] \(action.rawValue) = '\(name)': digits, '.', '%', Enter and Backspace are for entering numbers and cannot be bound")
                }
                if let other = bindings[key], other != action {
                    throw Problem(message: "[keymap] key \(key) is bound to both \(other.rawValue) and \(action.rawValue): give each action its own key")
                }
                bindings[key] = action
            }
        }
        self.bindings = bindings
    }

    public func action(for key: Key) -> TillAction? { bindings[key] }

    /// The keys bound to an action, in a stable order for help and prompts.
    public func keys(for action: TillAction) -> [Key] {
        // Function keys first, so prompts name the POS key; then by name.
        func rank(_ k: Key) -> (Int, String) {
            if case .function(let n) = k { return (0, String(repeating: "0", count: 2 - String(n).count) + String(n)) }
            return (1, k.description)
        }
        return bindings.filter { $0.value == action }.map(\.key).sorted { rank($0) < rank($1) }
    }

    /// The first key for an action as shown in prompts, e.g. "F6".
    public func label(_ action: TillAction) -> String { keys(for: action).first?.description ?? "(unbound)" }
}
