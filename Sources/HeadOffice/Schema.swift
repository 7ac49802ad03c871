import Foundation

/// Head office's tables, the same on SQLite and PostgreSQL. Migrations are numbered and applied
/// in order, each in its own transaction; a database newer than this program is refused.
enum Schema {
    static let migrations: [String] = programmeMigrations + ownersMigrations + engagementMigrations + fraudMigrations

    /// 1–9: the tills' side of head office (sales, the ledger, publications, the back office).
    static let programmeMigrations: [String] = [
        // 1: tills, sales, the loyalty ledger, and what ingest reports.
        """
        CREATE TABLE tills (
            store_id TEXT NOT NULL,
            till_id TEXT NOT NULL,
            token_hash TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT,
            last_seen BIGINT,
            max_sequence BIGINT NOT NULL DEFAULT 0,
            contiguous_through BIGINT NOT NULL DEFAULT 0,
            sales_count BIGINT NOT NULL DEFAULT 0,
            last_lag_ms BIGINT,
            PRIMARY KEY (store_id, till_id)
        );
        CREATE TABLE sales (
            sale_id TEXT PRIMARY KEY,
            store_id TEXT NOT NULL,
            till_id TEXT NOT NULL,
            sequence BIGINT NOT NULL,
            receipt_number TEXT NOT NULL,
            completed_at TEXT NOT NULL,
            completed_ms BIGINT NOT NULL,
            total BIGINT NOT NULL,
            currency TEXT NOT NULL,
            card_number TEXT,
            loyalty_spend BIGINT NOT NULL DEFAULT 0,
            document TEXT NOT NULL,
            received_at BIGINT NOT NULL,
            UNIQUE (store_id, till_id, sequence)
        );
        CREATE TABLE customers (
            id TEXT PRIMARY KEY,
            first_name TEXT NOT NULL,
            last_name TEXT NOT NULL,
            phone TEXT,
            email TEXT,
            postcode TEXT,
            birth_date TEXT,
            marketing_consent BIGINT NOT NULL DEFAULT 0,
            registered_at TEXT,
            store_id TEXT,
            till_id TEXT
        );
        CREATE TABLE cards (
            number TEXT PRIMARY KEY,
            customer_id TEXT,
            status TEXT NOT NULL DEFAULT 'active',
            balance BIGINT NOT NULL DEFAULT 0,
            qualifying BIGINT NOT NULL DEFAULT 0,
            tier_code TEXT,
            updated_at BIGINT
        );
        CREATE TABLE registrations (
            card_number TEXT PRIMARY KEY,
            customer_id TEXT NOT NULL,
            store_id TEXT NOT NULL,
            till_id TEXT NOT NULL,
            sale_id TEXT,
            received_at BIGINT NOT NULL
        );
        CREATE TABLE ledger (
            id {id},
            card_number TEXT NOT NULL,
            sale_id TEXT,
            kind TEXT NOT NULL,
            points BIGINT NOT NULL,
            rule TEXT,
            label TEXT,
            store_id TEXT,
            till_id TEXT,
            created_at BIGINT NOT NULL
        );
        CREATE INDEX ledger_card ON ledger (card_number);
        CREATE TABLE discrepancies (
            id {id},
            sale_id TEXT NOT NULL,
            card_number TEXT,
            kind TEXT NOT NULL,
            detail TEXT NOT NULL,
            till_points BIGINT,
            head_office_points BIGINT,
            created_at BIGINT NOT NULL
        );
        CREATE TABLE exceptions (
            id {id},
            kind TEXT NOT NULL,
            card_number TEXT,
            sale_id TEXT,
            store_id TEXT,
            till_id TEXT,
            detail TEXT NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE TABLE rejects (
            id {id},
            document_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            store_id TEXT NOT NULL,
            till_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            received_at BIGINT NOT NULL
        );
        CREATE TABLE programmes (
            version TEXT PRIMARY KEY,
            json TEXT NOT NULL,
            imported_at BIGINT NOT NULL
        );
        CREATE TABLE products (
            sku TEXT PRIMARY KEY,
            description TEXT NOT NULL,
            unit_price BIGINT NOT NULL,
            tax_code TEXT NOT NULL,
            category TEXT NOT NULL DEFAULT '',
            barcodes TEXT NOT NULL DEFAULT '',
            plu TEXT,
            sold_by_weight BIGINT NOT NULL DEFAULT 0
        );
        """,
        // 2: the cash office: refunds (their points go to the ledger) and the tills' Z reports.
        """
        CREATE TABLE refunds (
            refund_id TEXT PRIMARY KEY,
            store_id TEXT NOT NULL,
            till_id TEXT NOT NULL,
            sequence BIGINT NOT NULL,
            receipt_number TEXT NOT NULL,
            original_sale_id TEXT,
            card_number TEXT,
            total BIGINT NOT NULL,
            points_taken_back BIGINT NOT NULL,
            points_restored BIGINT NOT NULL,
            document TEXT NOT NULL,
            received_at BIGINT NOT NULL
        );
        CREATE INDEX refunds_original ON refunds (original_sale_id);
        CREATE TABLE z_reports (
            document_id TEXT PRIMARY KEY,
            store_id TEXT NOT NULL,
            till_id TEXT NOT NULL,
            number BIGINT NOT NULL,
            period_from BIGINT NOT NULL,
            period_to BIGINT NOT NULL,
            sales_count BIGINT NOT NULL,
            net_sales BIGINT NOT NULL,
            document TEXT NOT NULL,
            received_at BIGINT NOT NULL
        );
        """,
        // 3: staff and their roles, for the tills (PINs only as slow hashes).
        """
        CREATE TABLE staff (
            number TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            pin_hash TEXT NOT NULL,
            store_id TEXT,
            updated_at BIGINT NOT NULL
        );
        """,
        // 4: publications to the tills, the store groups they can target, and what each till runs.
        """
        CREATE TABLE publications (
            version {id},
            kind TEXT NOT NULL,
            scope_kind TEXT NOT NULL,
            scope_value TEXT,
            created_by TEXT NOT NULL,
            note TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            effective_at BIGINT NOT NULL,
            payload TEXT NOT NULL
        );
        CREATE INDEX publications_effective ON publications (effective_at);
        CREATE TABLE store_groups (
            group_name TEXT NOT NULL,
            store_id TEXT NOT NULL,
            PRIMARY KEY (group_name, store_id)
        );
        CREATE TABLE till_versions (
            store_id TEXT NOT NULL,
            till_id TEXT NOT NULL,
            version BIGINT NOT NULL DEFAULT 0,
            acked_at BIGINT,
            last_poll BIGINT,
            PRIMARY KEY (store_id, till_id)
        );
        """,
        // 5: the back office: its users (slow password hashes, lockout), sessions, drafts.
        """
        CREATE TABLE users (
            username TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            store_id TEXT,
            password_hash TEXT NOT NULL,
            failed BIGINT NOT NULL DEFAULT 0,
            locked_until BIGINT,
            created_at BIGINT NOT NULL
        );
        CREATE TABLE sessions (
            token_hash TEXT PRIMARY KEY,
            username TEXT NOT NULL,
            csrf TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        );
        CREATE TABLE drafts (
            kind TEXT PRIMARY KEY,
            json TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        """,
        // 6: where each till has applied publications in the order they come into force.
        """
        ALTER TABLE till_versions ADD COLUMN acked_effective BIGINT
        """,
        // 7: /health writes here to know the write path works (disk full, read-only, a lost primary).
        """
        CREATE TABLE health_probe (id BIGINT PRIMARY KEY, checked_at BIGINT NOT NULL)
        """,
        // 8: the stores as their receipts name them (the back office draws receipts as printed).
        """
        CREATE TABLE stores (store_id TEXT PRIMARY KEY, name TEXT NOT NULL, address TEXT NOT NULL DEFAULT '')
        """,
        // 9: customer service finds members by name (any order, the start of a name), phone (the
        // last digits, any punctuation, with or without the country code), e-mail and postcode.
        // Keys compared byte by byte ({bytes}) so a prefix is a range on the index on both backends.
        // A member's cards are listed apart (member_cards): an index on cards.customer_id would
        // be written again on every sale, which moves the card's balance.
        """
        CREATE TABLE customer_search (
            customer_id TEXT PRIMARY KEY,
            first_key TEXT {bytes} NOT NULL,
            last_key TEXT {bytes} NOT NULL,
            phone_rev TEXT {bytes},
            email_key TEXT {bytes},
            postcode_key TEXT {bytes}
        );
        CREATE INDEX customer_search_first ON customer_search (first_key);
        CREATE INDEX customer_search_last ON customer_search (last_key, first_key);
        CREATE INDEX customer_search_phone ON customer_search (phone_rev);
        CREATE INDEX customer_search_email ON customer_search (email_key);
        CREATE INDEX customer_search_postcode ON customer_search (postcode_key);
        CREATE TABLE member_cards (
            customer_id TEXT NOT NULL,
            number TEXT NOT NULL,
            PRIMARY KEY (customer_id, number)
        )
        """,
    ]

    /// Brings the database up to date.
    static func migrate(_ db: any SQLDatabase) throws {
        try db.write { c in
            if db.kind == .postgres {
                // Several head office processes may start together on one database.
                _ = try c.query("SELECT pg_advisory_xact_lock(7310001)", [])
            }
            try c.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)", [])
            let current = try c.queryOne("SELECT MAX(version) AS v FROM schema_version", [])?.int("v") ?? 0
            guard current <= Int64(migrations.count) else {
                throw SQLError("The head office database \(db.location) was written by a newer head office (schema \(current), this one knows \(migrations.count)): upgrade headoffice")
            }
            for (i, script) in migrations.enumerated() where Int64(i + 1) > current {
                for statement in db.ddl(script).split(separator: ";") where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    try c.execute(String(statement), [])
                }
                try c.execute("INSERT INTO schema_version (version) VALUES (?)", [.int(Int64(i + 1))])
            }
            // Members loaded before their search keys existed (schema 9) are indexed once.
            if current < 9 {
                try HeadOfficeStore.indexCustomers(nil, c)
                try c.execute("INSERT INTO member_cards (customer_id, number) SELECT customer_id, number FROM cards WHERE customer_id IS NOT NULL ON CONFLICT DO NOTHING", [])
            }
        }
    }
}
