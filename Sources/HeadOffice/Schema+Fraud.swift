import Foundation

extension Schema {
    /// 28 on: fraud (issue 19).
    static let fraudMigrations: [String] = [
        // 28: the fraud team's rules (as data: `FraudRule`), the alerts they raise (one per rule,
        // subject and day, by `dedup`) with the evidence and the case's status, the notes on each
        // case, and each evaluation of the rules on a generated month (per rule: the injected
        // cases caught, the normal subjects flagged). Members found by phone and e-mail (the
        // shared-details rule).
        """
        CREATE TABLE fraud_rules (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            measure TEXT NOT NULL,
            window_s BIGINT NOT NULL,
            threshold BIGINT NOT NULL,
            percent BIGINT NOT NULL,
            action TEXT NOT NULL,
            enabled BIGINT NOT NULL,
            updated_by TEXT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE TABLE fraud_alerts (
            id {id},
            dedup TEXT NOT NULL UNIQUE,
            rule_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject_kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            card_number TEXT,
            customer_id TEXT,
            cashier TEXT,
            store_id TEXT,
            figures TEXT NOT NULL,
            evidence TEXT NOT NULL,
            action TEXT NOT NULL,
            status TEXT NOT NULL,
            happened_at BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE INDEX fraud_alerts_status ON fraud_alerts (status, id);
        CREATE INDEX fraud_alerts_rule ON fraud_alerts (rule_id, status);
        CREATE INDEX fraud_alerts_subject ON fraud_alerts (subject);
        CREATE TABLE fraud_notes (
            id {id},
            alert_id BIGINT NOT NULL,
            username TEXT NOT NULL,
            status TEXT,
            note TEXT NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE INDEX fraud_notes_alert ON fraud_notes (alert_id);
        CREATE TABLE fraud_evaluations (
            id {id},
            run_at BIGINT NOT NULL,
            run_by TEXT NOT NULL,
            rule_id TEXT NOT NULL,
            injected BIGINT NOT NULL,
            caught BIGINT NOT NULL,
            normal BIGINT NOT NULL,
            flagged BIGINT NOT NULL,
            sales BIGINT NOT NULL
        );
        CREATE INDEX fraud_evaluations_run ON fraud_evaluations (run_at);
        CREATE INDEX customers_phone ON customers (phone);
        CREATE INDEX customers_email ON customers (email)
        """,
        // 29: the sales the reports' roll-up has still to count, in a narrow table of their own
        // (ingest appends, the roll-up takes and deletes): the roll-up no longer rewrites every
        // sale's row (and its document) to mark it. `sales.rolled` is no longer read or written.
        """
        CREATE TABLE sales_to_roll (sale_id TEXT PRIMARY KEY){rowid-free};
        INSERT INTO sales_to_roll (sale_id) SELECT sale_id FROM sales WHERE rolled = 0;
        DROP INDEX sales_unrolled
        """,
        // 30: when an alert's hold or block was placed (at once for a rule that only alerts): an
        // alert written whose hold failed is held when the next alert is raised.
        """
        ALTER TABLE fraud_alerts ADD COLUMN enforced_at BIGINT;
        UPDATE fraud_alerts SET enforced_at = created_at;
        CREATE INDEX fraud_alerts_unenforced ON fraud_alerts (id) WHERE enforced_at IS NULL
        """,
        // 31: sales by when they were made. The fraud rules' memory is filled at start from the
        // last days' sales, which was a scan of every sale head office holds. Sales arrive
        // roughly in time order, so a sale's entry lands on the index's last pages: it adds
        // almost nothing to a sale's write (an index by card would add a page at random).
        """
        CREATE INDEX sales_completed ON sales (completed_ms)
        """,
        // 32: refunds by when they were made, for the same start: their only index led with the
        // store (`refunds_store_time`), so the last days' refunds were a scan of every refund.
        """
        CREATE INDEX refunds_created ON refunds (created_ms)
        """,
        // 33: when each registration was made at its till (till's clock; older rows: when head
        // office received it), by till, for the rule on registrations on one device in a row; the
        // rule itself added to a head office whose rules were already written.
        """
        ALTER TABLE registrations ADD COLUMN registered_ms BIGINT;
        UPDATE registrations SET registered_ms = received_at;
        CREATE INDEX registrations_till_time ON registrations (store_id, till_id, registered_ms);
        INSERT INTO fraud_rules (id, kind, measure, window_s, threshold, percent, action, enabled, updated_by, updated_at)
        SELECT 'shared-device', 'shared-device', '', 3600, 5, 0, 'alert', 1, 'head office', (SELECT MAX(updated_at) FROM fraud_rules)
        WHERE EXISTS (SELECT 1 FROM fraud_rules) ON CONFLICT (id) DO NOTHING
        """,
        // 34: each card's welcome and referral bonuses, for the rule on a bonus redeemed at once:
        // it asks at every redemption, and found them by reading every ledger row of the card (a
        // month of a regular's sales). A card has one or two, so the index adds almost nothing
        // to a sale's write (a sale that earns none has no entry in it).
        """
        CREATE INDEX ledger_bonus ON ledger (card_number) WHERE kind = 'welcome' OR rule = 'referral'
        """,
    ]
}
