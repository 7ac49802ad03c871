import Foundation

extension Schema {
    /// 10 on: what the programme's owners run (customer service, channels, the member's page,
    /// webhooks, cashback, the coalition).
    static let ownersMigrations: [String] = [
        // 10: customer service's actions, each audited (who, why); point adjustments above the
        // approval threshold wait for a second person; consent as a history of what was agreed to,
        // where, and which text (GDPR Art. 7); replaced cards name their successor; merged and
        // erased members are marked, never deleted (the ledger keeps its totals).
        """
        ALTER TABLE cards ADD COLUMN replaced_by TEXT;
        ALTER TABLE customers ADD COLUMN merged_into TEXT;
        ALTER TABLE customers ADD COLUMN erased_at BIGINT;
        CREATE TABLE audit (
            id {id},
            created_at BIGINT NOT NULL,
            username TEXT NOT NULL,
            action TEXT NOT NULL,
            customer_id TEXT,
            card_number TEXT,
            reason TEXT NOT NULL,
            note TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        CREATE INDEX audit_customer ON audit (customer_id);
        CREATE TABLE adjustments (
            id {id},
            card_number TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            points BIGINT NOT NULL,
            reason TEXT NOT NULL,
            note TEXT NOT NULL,
            requested_by TEXT NOT NULL,
            requested_at BIGINT NOT NULL,
            state TEXT NOT NULL,
            decided_by TEXT,
            decided_at BIGINT
        );
        CREATE INDEX adjustments_state ON adjustments (state);
        CREATE TABLE consent_texts (
            version TEXT PRIMARY KEY,
            purpose TEXT NOT NULL,
            body TEXT NOT NULL,
            created_at BIGINT NOT NULL
        );
        INSERT INTO consent_texts (version, purpose, body, created_at) VALUES ('marketing-1', 'marketing',
            'I would like to hear about offers and news by e-mail and post. I can change my mind at any time at the till, on my member page or by asking customer service.', 0);
        CREATE TABLE consents (
            id {id},
            customer_id TEXT NOT NULL,
            purpose TEXT NOT NULL,
            granted BIGINT NOT NULL,
            text_version TEXT,
            channel TEXT NOT NULL,
            recorded_by TEXT,
            given_at TEXT NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE INDEX consents_customer ON consents (customer_id);
        INSERT INTO consents (customer_id, purpose, granted, text_version, channel, recorded_by, given_at, created_at)
            SELECT id, 'marketing', marketing_consent, 'marketing-1',
                   CASE WHEN store_id IS NULL THEN 'card import' ELSE 'till ' || store_id || '/' || till_id END, NULL, COALESCE(registered_at, ''), 0
            FROM customers;
        CREATE TABLE options (name TEXT PRIMARY KEY, value TEXT NOT NULL)
        """,
        // 11: points outside the store: channels (a web shop, an app, a partner) with keys and
        // scopes; orders that earned (once each); reservations of points (reserve, then capture
        // or cancel; expired ones give the points back); every answer to an idempotency key kept.
        """
        CREATE TABLE channels (
            name TEXT PRIMARY KEY,
            key_hash TEXT NOT NULL,
            scopes TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT
        );
        CREATE TABLE channel_orders (
            channel TEXT NOT NULL,
            order_id TEXT NOT NULL,
            card_number TEXT NOT NULL,
            amount BIGINT NOT NULL,
            points BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (channel, order_id)
        );
        CREATE TABLE reservations (
            id TEXT PRIMARY KEY,
            channel TEXT NOT NULL,
            card_number TEXT NOT NULL,
            order_id TEXT,
            points BIGINT NOT NULL,
            refunded BIGINT NOT NULL DEFAULT 0,
            state TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            settled_at BIGINT
        );
        CREATE INDEX reservations_open ON reservations (state, expires_at);
        CREATE INDEX reservations_card ON reservations (card_number);
        CREATE TABLE channel_requests (
            channel TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            request TEXT NOT NULL,
            status BIGINT NOT NULL,
            response TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (channel, idempotency_key)
        )
        """,
        // 12: the member's own page: one-time sign-in codes sent by e-mail (only their hashes;
        // every request counted, for the rate limit) and the members' sessions.
        """
        CREATE TABLE member_codes (
            id {id},
            email TEXT NOT NULL,
            customer_id TEXT,
            code_hash TEXT,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            used_at BIGINT
        );
        CREATE INDEX member_codes_email ON member_codes (email, created_at);
        CREATE TABLE member_sessions (
            token_hash TEXT PRIMARY KEY,
            customer_id TEXT NOT NULL,
            csrf TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        )
        """,
        // 13: webhooks for a CRM: subscriptions (a URL, its signing secret, the events it wants)
        // and every delivery, written in the transaction of what it reports (the delivery log).
        """
        CREATE TABLE webhooks (
            id {id},
            url TEXT NOT NULL,
            secret TEXT NOT NULL,
            events TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT
        );
        CREATE TABLE webhook_deliveries (
            id {id},
            webhook_id BIGINT NOT NULL,
            event TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            next_at BIGINT NOT NULL,
            state TEXT NOT NULL,
            last_status BIGINT,
            last_error TEXT,
            delivered_at BIGINT
        );
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_at)
        """,
        // 14: the scheduled cashback: one run per period, one payout per period and card (never two).
        """
        CREATE TABLE cashback_runs (
            period TEXT PRIMARY KEY,
            programme_version TEXT NOT NULL,
            started_at BIGINT NOT NULL,
            finished_at BIGINT,
            state TEXT NOT NULL,
            cards BIGINT,
            points BIGINT,
            amount BIGINT
        );
        CREATE TABLE cashback_payouts (
            period TEXT NOT NULL,
            card_number TEXT NOT NULL,
            points BIGINT NOT NULL,
            amount BIGINT NOT NULL,
            reference TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            mailed_at BIGINT,
            PRIMARY KEY (period, card_number)
        )
        """,
        // 15: the coalition: partners (the chain, the bank, partner retailers) with their earn rule
        // and rates; their transactions (a channel's orders, now with a category, a date and the
        // transaction a reversal takes back); settlement statements, immutable once closed, and the
        // corrections made in a later period; the ledger by date, for the statements.
        """
        CREATE TABLE partners (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            earn_points BIGINT NOT NULL DEFAULT 0,
            earn_unit BIGINT NOT NULL DEFAULT 100,
            multipliers TEXT NOT NULL DEFAULT '',
            issue_rate BIGINT NOT NULL DEFAULT 0,
            redeem_rate BIGINT NOT NULL DEFAULT 0,
            cashback_payer BIGINT NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        INSERT INTO partners (id, name, kind, created_at, updated_at) VALUES ('chain', 'The chain', 'chain', 0, 0);
        ALTER TABLE channel_orders ADD COLUMN category TEXT;
        ALTER TABLE channel_orders ADD COLUMN reverses TEXT;
        ALTER TABLE channel_orders ADD COLUMN occurred_at BIGINT;
        CREATE INDEX channel_orders_reverses ON channel_orders (channel, reverses);
        CREATE INDEX ledger_created ON ledger (created_at);
        CREATE TABLE settlements (
            partner TEXT NOT NULL,
            period TEXT NOT NULL,
            closed_at BIGINT NOT NULL,
            closed_by TEXT NOT NULL,
            ledger_points BIGINT NOT NULL,
            PRIMARY KEY (partner, period)
        );
        CREATE TABLE settlement_lines (
            partner TEXT NOT NULL,
            period TEXT NOT NULL,
            line BIGINT NOT NULL,
            kind TEXT NOT NULL,
            label TEXT NOT NULL,
            points BIGINT NOT NULL,
            rate BIGINT,
            amount BIGINT NOT NULL,
            PRIMARY KEY (partner, period, line)
        );
        CREATE TABLE settlement_corrections (
            id {id},
            partner TEXT NOT NULL,
            corrects TEXT NOT NULL,
            amount BIGINT NOT NULL,
            note TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            period TEXT
        )
        """,
        // 16: the reports: each sale's figures kept beside its document as it is applied (the
        // cashier, items, voids, overrides, discounts, how long it took, what was tendered, net by
        // category), each refund's cashier and time; sales and partners' orders rolled up by day
        // (each once: `rolled` marks it) into the tables the reports read.
        """
        ALTER TABLE sales ADD COLUMN cashier TEXT;
        ALTER TABLE sales ADD COLUMN items BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE sales ADD COLUMN voids BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE sales ADD COLUMN overrides BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE sales ADD COLUMN discounts BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE sales ADD COLUMN duration_ms BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE sales ADD COLUMN paid_cash BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE sales ADD COLUMN paid_card BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE sales ADD COLUMN paid_points BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE sales ADD COLUMN categories TEXT NOT NULL DEFAULT '';
        ALTER TABLE sales ADD COLUMN rolled BIGINT NOT NULL DEFAULT 0;
        CREATE INDEX sales_unrolled ON sales (rolled) WHERE rolled = 0;
        ALTER TABLE channel_orders ADD COLUMN rolled BIGINT NOT NULL DEFAULT 0;
        CREATE INDEX channel_orders_unrolled ON channel_orders (rolled) WHERE rolled = 0;
        ALTER TABLE refunds ADD COLUMN cashier TEXT;
        ALTER TABLE refunds ADD COLUMN created_ms BIGINT;
        CREATE INDEX refunds_store_time ON refunds (store_id, created_ms);
        CREATE INDEX registrations_sale ON registrations (sale_id);
        CREATE TABLE cashier_days (
            day BIGINT NOT NULL,
            store_id TEXT NOT NULL,
            cashier TEXT NOT NULL,
            sales BIGINT NOT NULL,
            total BIGINT NOT NULL,
            items BIGINT NOT NULL,
            duration_ms BIGINT NOT NULL,
            carded BIGINT NOT NULL,
            enrolments BIGINT NOT NULL,
            voids BIGINT NOT NULL,
            overrides BIGINT NOT NULL,
            discounts BIGINT NOT NULL,
            paid_cash BIGINT NOT NULL,
            paid_card BIGINT NOT NULL,
            paid_points BIGINT NOT NULL,
            PRIMARY KEY (day, store_id, cashier)
        );
        CREATE TABLE store_hours (
            day BIGINT NOT NULL,
            store_id TEXT NOT NULL,
            hour BIGINT NOT NULL,
            sales BIGINT NOT NULL,
            total BIGINT NOT NULL,
            PRIMARY KEY (day, store_id, hour)
        );
        CREATE TABLE basket_days (
            day BIGINT NOT NULL,
            partner TEXT NOT NULL,
            category TEXT NOT NULL,
            member BIGINT NOT NULL,
            amount BIGINT NOT NULL,
            baskets BIGINT NOT NULL,
            PRIMARY KEY (day, partner, category, member)
        )
        """,
        // 17: members told ahead that points expire: one notice per card and month of expiry.
        """
        CREATE TABLE expiry_notices (
            card_number TEXT NOT NULL,
            month TEXT NOT NULL,
            points BIGINT NOT NULL,
            expires_by BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            mailed_at BIGINT,
            PRIMARY KEY (card_number, month)
        )
        """,
        // 18: segments. Each member's sales by day and what they bought (categories and SKUs, by
        // day), rolled up from the sales as the reports are (keyed by day first: a chunk of new
        // sales writes the few pages of its day, not a page per card); each member's RFM scores and cell,
        // recomputed nightly and on demand; saved segments, each save a new version. A sale's
        // SKUs are kept beside its document for the roll-up (members' sales only).
        """
        ALTER TABLE sales ADD COLUMN skus TEXT NOT NULL DEFAULT '';
        CREATE INDEX cards_customer ON cards (customer_id);
        CREATE TABLE card_days (
            day BIGINT NOT NULL,
            card_number TEXT NOT NULL,
            visits BIGINT NOT NULL,
            spend BIGINT NOT NULL,
            PRIMARY KEY (day, card_number)
        ){rowid-free};
        CREATE TABLE card_items (
            day BIGINT NOT NULL,
            item TEXT NOT NULL,
            card_number TEXT NOT NULL,
            PRIMARY KEY (day, item, card_number)
        ){rowid-free};
        CREATE TABLE member_rfm (
            customer_id TEXT PRIMARY KEY,
            last_day BIGINT,
            visits BIGINT NOT NULL,
            spend BIGINT NOT NULL,
            r BIGINT NOT NULL,
            f BIGINT NOT NULL,
            m BIGINT NOT NULL,
            cell TEXT NOT NULL,
            computed_at BIGINT NOT NULL
        );
        CREATE INDEX member_rfm_cell ON member_rfm (cell);
        CREATE TABLE segments (
            id TEXT NOT NULL,
            version BIGINT NOT NULL,
            name TEXT NOT NULL,
            definition TEXT NOT NULL,
            members BIGINT NOT NULL,
            created_by TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (id, version)
        )
        """,
        // 19: campaigns: a saved segment's version, its members drawn when the campaign starts
        // (each targeted or held out at random, for ever), the e-mail each targeted member is sent
        // once (claimed, written to the mail journal as its end goes out, then marked sent), and
        // what they did with it (opened, clicked, unsubscribed), by a token in its links.
        """
        CREATE TABLE campaigns (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            segment_id TEXT NOT NULL,
            segment_version BIGINT NOT NULL,
            holdout_bp BIGINT NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            link TEXT NOT NULL,
            rate_per_s BIGINT NOT NULL,
            starts_at BIGINT NOT NULL,
            ends_at BIGINT NOT NULL,
            state TEXT NOT NULL,
            targeted BIGINT NOT NULL DEFAULT 0,
            held_out BIGINT NOT NULL DEFAULT 0,
            created_by TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            launched_at BIGINT,
            finished_at BIGINT
        );
        CREATE TABLE campaign_members (
            campaign_id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            holdout BIGINT NOT NULL,
            email TEXT,
            state TEXT NOT NULL,
            token TEXT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            claimed_until BIGINT,
            sent_at BIGINT,
            opened_at BIGINT,
            clicked_at BIGINT,
            unsubscribed_at BIGINT,
            detail TEXT,
            PRIMARY KEY (campaign_id, customer_id)
        );
        CREATE UNIQUE INDEX campaign_members_token ON campaign_members (token);
        CREATE INDEX campaign_members_state ON campaign_members (campaign_id, state)
        """,
        // 20: a campaign's offer at the tills (its terms as the tills apply them, JSON) and by
        // which channels it goes; each targeted member's uses of it (counted down as head office
        // applies the sales that used it, below zero when tills offline used it more than allowed)
        // and whether the tills were told it is used up. The programme's figures by month (members
        // against everyone), kept once a month has ended two months ago.
        """
        ALTER TABLE campaigns ADD COLUMN offer TEXT;
        ALTER TABLE campaigns ADD COLUMN channels TEXT NOT NULL DEFAULT 'email';
        CREATE TABLE member_offers (
            campaign_id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            uses_left BIGINT NOT NULL,
            used BIGINT NOT NULL DEFAULT 0,
            used_up_published BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (campaign_id, customer_id)
        );
        CREATE INDEX member_offers_customer ON member_offers (customer_id);
        CREATE INDEX member_offers_used_up ON member_offers (used_up_published, uses_left);
        CREATE TABLE programme_months (
            month TEXT PRIMARY KEY,
            members BIGINT NOT NULL,
            repeaters BIGINT NOT NULL,
            member_sales BIGINT NOT NULL,
            member_spend BIGINT NOT NULL,
            sales BIGINT NOT NULL,
            total BIGINT NOT NULL,
            computed_at BIGINT NOT NULL
        )
        """,
        // 21: offers a member must activate (on their page, or by the e-mail's link): when they
        // did, and whether the tills were told.
        """
        ALTER TABLE member_offers ADD COLUMN activated_at BIGINT;
        ALTER TABLE member_offers ADD COLUMN activation_published BIGINT NOT NULL DEFAULT 0;
        CREATE INDEX member_offers_activation ON member_offers (activation_published, activated_at)
        """,
    ]
}
