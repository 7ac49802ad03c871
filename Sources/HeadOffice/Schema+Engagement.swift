import Foundation

extension Schema {
    /// 22 on: engagement (issue 18) and fraud (issue 19).
    static let engagementMigrations: [String] = [
        // 22: custom events (issue 18): the marketer's event types, and each event a channel
        // reported that earned points (once per channel and event id).
        """
        CREATE TABLE event_types (
            code TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            points BIGINT NOT NULL,
            per_day BIGINT NOT NULL,
            per_month BIGINT NOT NULL,
            active BIGINT NOT NULL DEFAULT 1,
            updated_by TEXT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE TABLE member_events (
            channel TEXT NOT NULL,
            event_id TEXT NOT NULL,
            code TEXT NOT NULL,
            card_number TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            points BIGINT NOT NULL,
            occurred_at BIGINT NOT NULL,
            received_at BIGINT NOT NULL,
            PRIMARY KEY (channel, event_id)
        );
        CREATE INDEX member_events_member ON member_events (customer_id, code, occurred_at);
        CREATE INDEX member_events_code ON member_events (code, received_at)
        """,
        // 23: feedback (issue 18): a member's answer to their receipt's survey, once per sale.
        """
        CREATE TABLE feedback (
            sale_id TEXT PRIMARY KEY,
            store_id TEXT NOT NULL,
            card_number TEXT NOT NULL,
            customer_id TEXT,
            nps BIGINT NOT NULL,
            comment TEXT NOT NULL,
            points BIGINT NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE INDEX feedback_store ON feedback (store_id, created_at);
        CREATE INDEX feedback_created ON feedback (created_at)
        """,
        // 24: a hold on a card's redemptions (issue 19): since when (epoch ms), none when NULL.
        """
        ALTER TABLE cards ADD COLUMN redemption_hold BIGINT
        """,
        // 25: cross-sell suggestions (issue 18). Every sale's basket (its distinct SKUs, as the
        // sale's `skus`), by day and store, written by the roll-up, for the nightly mining (members'
        // baskets from before come from their sales); each mining run with how well it predicted
        // the held-out week; the suggestions of the newest run of each scope.
        """
        CREATE TABLE baskets (
            day BIGINT NOT NULL,
            store_id TEXT NOT NULL,
            skus TEXT NOT NULL
        );
        CREATE INDEX baskets_day ON baskets (day);
        INSERT INTO baskets (day, store_id, skus) SELECT completed_ms / 86400000, store_id, skus FROM sales WHERE rolled = 1 AND skus <> '';
        CREATE TABLE suggestion_runs (
            mined_at BIGINT NOT NULL,
            scope TEXT NOT NULL,
            from_day BIGINT NOT NULL,
            to_day BIGINT NOT NULL,
            baskets BIGINT NOT NULL,
            items BIGINT NOT NULL,
            pairs BIGINT NOT NULL,
            mining_ms BIGINT NOT NULL,
            queries BIGINT NOT NULL,
            hit_bp BIGINT NOT NULL,
            baseline_bp BIGINT NOT NULL,
            version BIGINT,
            mined_by TEXT NOT NULL,
            PRIMARY KEY (mined_at, scope)
        );
        CREATE TABLE suggestion_pairs (
            scope TEXT NOT NULL,
            sku TEXT NOT NULL,
            rank BIGINT NOT NULL,
            also TEXT NOT NULL,
            together BIGINT NOT NULL,
            lift_milli BIGINT NOT NULL,
            PRIMARY KEY (scope, sku, rank)
        )
        """,
    ]
}
