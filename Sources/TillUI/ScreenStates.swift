import TillCore

// The controller's state, one small type per screen or flow. The screens with a form or a list
// carry theirs in `TillController.Mode` (sign-on's number, `RegistrationForm`, `CustomerSearch`,
// `CustomerDetail`, `ProductLookup`, `OverrideRequest`, `ReasonRequest`, `ReturnDraft`,
// `RefundCardStep`, `DocumentView`, `CashCount`); the flows that span several screens keep theirs
// here, each reset as a whole when its flow ends.

/// The sale being rung and paid: what is keyed before an item, the line picked, the total key and
/// the split tender, the loyalty prompt (shown once a sale), the card scan's message, the points
/// the till offered. Reset when the sale is over (completed, suspended, cancelled).
struct SellingState: Equatable {
    /// A quantity keyed (N *) for the next item.
    var pendingQuantity: Quantity?
    /// Several tenders are being keyed for this sale.
    var split = false
    /// The total key was pressed: the sale is at tender.
    var totalled = false
    /// The selected line number (1-based), if any.
    var selectedLine: Int?
    /// The loyalty prompt was shown for this sale.
    var promptedForCard = false
    /// The message a card scan gave (and whether it named the amount due), while it is still the
    /// one on screen: head office's later answer about the card rewrites it.
    var cardMessage: CardScanMessage?
    /// Points the till offered when a keyed amount could not be paid exactly in points: the points
    /// key again takes them; any other key forgets them.
    var pointsOffer: LoyaltyProgramme.PointsPayment?
    /// What customers who buy the item last rung also buy (head office's cross-sell suggestions),
    /// for the cashier to mention; nil when there is none not already in the sale.
    var suggestion: String?
}

/// What a card scan said, kept while it is on screen.
struct CardScanMessage: Equatable {
    var message: TillController.Message
    var withDue: Bool
}

/// A return, from its reason to its slip: the reason chosen (asked once, before any money moves),
/// who authorised a refund without a receipt, a quantity keyed before a line number. Reset when a
/// return starts.
struct ReturnFlow: Equatable {
    var reason: String?
    var noReceiptSupervisor: String?
    var pendingQuantityText: String?
}

/// The lock: where unlocking goes back to, and when the last key or scan came (for the auto-lock).
struct LockState: Equatable {
    var modeBeforeLock: TillController.Mode?
    var lastActivity: Timestamp = 0
}

/// What is drawn over the screen until the next key: help, this sale's points, the messages.
enum Overlay: Equatable {
    case help, points, messages
}
