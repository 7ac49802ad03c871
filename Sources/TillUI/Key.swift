/// A key as the till sees it, independent of the terminal.
public enum Key: Hashable, Sendable, CustomStringConvertible {
    case char(Character)
    case enter, backspace, escape, tab, delete
    case up, down, left, right, pageUp, pageDown, home, end
    case function(Int)
    /// Ctrl with a letter, lower case: `.ctrl("x")` is Ctrl-X.
    case ctrl(Character)

    /// Parses a key name as written in the keymap: `F1`…`F24`, `Enter`, `Esc`, `Backspace`, `Tab`,
    /// `Delete`, `Up`, `Down`, `Left`, `Right`, `PgUp`, `PgDn`, `Home`, `End`, `Ctrl-X`, or one
    /// printable character such as `*` or `?`.
    public init?(name: String) {
        let lower = name.lowercased()
        switch lower {
        case "enter", "return": self = .enter
        case "backspace": self = .backspace
        case "esc", "escape": self = .escape
        case "tab": self = .tab
        case "delete", "del": self = .delete
        case "up": self = .up
        case "down": self = .down
        case "left": self = .left
        case "right": self = .right
        case "pgup", "pageup": self = .pageUp
        case "pgdn", "pagedown": self = .pageDown
        case "home": self = .home
        case "end": self = .end
        default:
            if lower.hasPrefix("f"), let n = Int(lower.dropFirst()), (1...24).contains(n) {
                self = .function(n)
            } else if lower.hasPrefix("ctrl-"), lower.count == 6, let c = lower.last, c.isLetter, c.isASCII {
                self = .ctrl(c)
            } else if name.count == 1, let c = name.first, !c.isWhitespace {
                self = .char(c)
            } else {
                return nil
            }
        }
    }

    public var description: String {
        switch self {
        case .char(let c): String(c)
        case .enter: "Enter"
        case .backspace: "Backspace"
        case .escape: "Esc"
        case .tab: "Tab"
        case .delete: "Delete"
        case .up: "Up"
        case .down: "Down"
        case .left: "Left"
        case .right: "Right"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .home: "Home"
        case .end: "End"
        case .function(let n): "F\(n)"
        case .ctrl(let c): "Ctrl-\(c.uppercased())"
        }
    }

    /// Digits, the decimal point and '%' are always what the cashier keys into the input line.
    public var isEntryCharacter: Bool {
        if case .char(let c) = self { return c.isASCII && (c.isNumber || c == "." || c == "%") }
        return false
    }
}

/// What a cashier can ask the till to do with one key.
public enum TillAction: String, CaseIterable, Sendable {
    case help
    case quantity
    case voidLine = "void_line"
    case lineDiscount = "line_discount"
    case saleDiscount = "sale_discount"
    case total
    case cash
    case card
    case split
    case suspendResume = "suspend_resume"
    case cancelSale = "cancel_sale"
    case signOff = "sign_off"
    case clear
    case lineUp = "line_up"
    case lineDown = "line_down"
    case pageUp = "page_up"
    case pageDown = "page_down"
    case reprint
    case quit
    case points
    case newCard = "new_card"
    case findCustomer = "find_customer"
    case pointsDetail = "points_detail"
    case refund
    case cashOffice = "cash_office"
    case priceOverride = "price_override"
    case lock
    case removeCard = "remove_card"
    case messages
    case lookup

    /// The summary in at most 24 characters, for the two-column help on a small screen.
    public var shortSummary: String {
        switch self {
        case .help: "This help"
        case .quantity: "Quantity, then the item"
        case .voidLine: "Void the selected line"
        case .lineDiscount: "Line discount (10%/1.50)"
        case .saleDiscount: "Sale discount (10%/1.50)"
        case .total: "Total"
        case .cash: "Cash (amount given)"
        case .card: "Card, then its reference"
        case .split: "Split tender on/off"
        case .suspendResume: "Suspend / resume a sale"
        case .cancelSale: "Cancel (void) the sale"
        case .signOff: "Sign off"
        case .clear: "Clear / go back"
        case .lineUp: "Previous line"
        case .lineDown: "Next line"
        case .pageUp: "Scroll up"
        case .pageDown: "Scroll down"
        case .reprint: "Reprint last receipt"
        case .quit: "Quit (sign-on screen)"
        case .points: "Pay with points"
        case .newCard: "Issue a loyalty card"
        case .findCustomer: "Find a customer"
        case .pointsDetail: "This sale's points"
        case .refund: "Return / refund"
        case .cashOffice: "Cash office, X and Z"
        case .priceOverride: "Price override"
        case .lock: "Lock the till"
        case .removeCard: "Take the card off"
        case .messages: "The last messages"
        case .lookup: "Find a product, price check"
        }
    }

    /// What the help overlay says the key does.
    public var summary: String {
        switch self {
        case .help: "Help (this screen)"
        case .quantity: "Quantity: N, this key, then the item (0.750 for kg); Enter: selected line to N"
        case .voidLine: "Void the selected line (or key its number); paying: last tender off"
        case .lineDiscount: "Line discount: key 10% or 1.50 first"
        case .saleDiscount: "Sale discount: key 10% or 1.50 first (0 removes)"
        case .total: "Total: show the amount due"
        case .cash: "Cash: key the amount given (none = exact)"
        case .card: "Card: amount (none = all due), then its reference"
        case .split: "Split tender on/off: pay part, then another tender"
        case .suspendResume: "Suspend this sale / resume one (empty sale)"
        case .cancelSale: "Cancel the whole sale"
        case .signOff: "Sign off"
        case .clear: "Clear the input / go back"
        case .lineUp: "Select previous line"
        case .lineDown: "Select next line"
        case .pageUp: "Scroll up"
        case .pageDown: "Scroll down"
        case .reprint: "Reprint the last receipt (marked COPY)"
        case .quit: "Quit the till (sign-on screen only)"
        case .points: "Pay with points (key an amount first, none = most)"
        case .newCard: "Issue a new loyalty card and register the customer"
        case .findCustomer: "Find a customer by card, phone, e-mail or surname"
        case .pointsDetail: "This sale's points, rule by rule"
        case .refund: "Return / refund: scan the receipt (again: no receipt)"
        case .cashOffice: "Cash office: float, pickup, paid in/out, no sale, X, Z"
        case .priceOverride: "Price override: key the new price first (supervisor)"
        case .lock: "Lock the till (your PIN unlocks)"
        case .removeCard: "Take the loyalty card off the sale (scanned by mistake)"
        case .messages: "The last 20 messages, newest first, in full"
        case .lookup: "Find a product by name (Enter adds it); a scan there only shows the price"
        }
    }
}
