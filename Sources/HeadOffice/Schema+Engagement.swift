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
        // 26: challenges (issue 18): each member sale's part in each challenge it counts in (by
        // member: all their cards), each completion head office confirmed (numbered per member
        // and challenge: a completion is paid once however many tills counted it), and who
        // joined a challenge members opt in to.
        """
        CREATE TABLE challenge_events (
            customer_id TEXT NOT NULL,
            challenge_id TEXT NOT NULL,
            sale_id TEXT NOT NULL,
            at BIGINT NOT NULL,
            amount BIGINT NOT NULL,
            PRIMARY KEY (customer_id, challenge_id, sale_id)
        );
        CREATE TABLE challenge_completions (
            customer_id TEXT NOT NULL,
            challenge_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            sale_id TEXT NOT NULL,
            at BIGINT NOT NULL,
            card_number TEXT NOT NULL,
            points BIGINT NOT NULL,
            badge TEXT,
            name TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (customer_id, challenge_id, seq)
        );
        CREATE TABLE challenge_members (
            customer_id TEXT NOT NULL,
            challenge_id TEXT NOT NULL,
            joined_at BIGINT NOT NULL,
            PRIMARY KEY (customer_id, challenge_id)
        )
        """,
        // 27: referrals (issue 18): each member's code (made when first shown), and each member
        // who gave one: who invited them, by which channel, and what came of it (registered,
        // rewarded with the purchase that did it, refused and why, reversed by a return).
        """
        ALTER TABLE customers ADD COLUMN referral_code TEXT;
        CREATE UNIQUE INDEX customers_referral_code ON customers (referral_code);
        CREATE TABLE referrals (
            referred_id TEXT PRIMARY KEY,
            referrer_id TEXT NOT NULL,
            code TEXT NOT NULL,
            channel TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            registered_at BIGINT NOT NULL,
            sale_id TEXT,
            min_spend BIGINT NOT NULL DEFAULT 0,
            rewarded_at BIGINT,
            referrer_card TEXT,
            referred_card TEXT,
            referrer_points BIGINT NOT NULL DEFAULT 0,
            referred_points BIGINT NOT NULL DEFAULT 0
        );
        CREATE INDEX referrals_referrer ON referrals (referrer_id, rewarded_at);
        CREATE INDEX referrals_sale ON referrals (sale_id);
        CREATE INDEX referrals_open ON referrals (status)
        """,
    ]
}
