import Foundation
import GRDB
import TillCore
import TillProtocol

extension TillDatabase {
    /// Versioned, named migrations. Never edit a shipped migration: add a new one.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-catalog-journal-outbox") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);

                CREATE TABLE product (
                    sku TEXT PRIMARY KEY NOT NULL,
                    plu TEXT UNIQUE,
                    description TEXT NOT NULL,
                    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
                    tax_code TEXT NOT NULL,
                    category TEXT NOT NULL DEFAULT '',
                    sold_by_weight INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE barcode (
                    code TEXT PRIMARY KEY NOT NULL,
                    sku TEXT NOT NULL REFERENCES product(sku) ON DELETE CASCADE
                ) WITHOUT ROWID;
                CREATE INDEX barcode_sku ON barcode(sku);

                CREATE TABLE cashier (
                    number TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    role TEXT NOT NULL,
                    pin_hash TEXT NOT NULL
                );

                -- The sale being rung up, as its events: rebuilt after a restart.
                CREATE TABLE open_sale (
                    sale_id TEXT PRIMARY KEY NOT NULL,
                    started_at INTEGER NOT NULL,
                    cashier_number TEXT NOT NULL,
                    cashier_name TEXT NOT NULL,
                    cashier_role TEXT NOT NULL
                );
                CREATE TABLE open_sale_event (
                    sale_id TEXT NOT NULL REFERENCES open_sale(sale_id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    event TEXT NOT NULL,
                    PRIMARY KEY (sale_id, position)
                ) WITHOUT ROWID;

                CREATE TABLE suspended_sale (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    sale_id TEXT NOT NULL UNIQUE,
                    started_at INTEGER NOT NULL,
                    suspended_at INTEGER NOT NULL,
                    cashier_number TEXT NOT NULL,
                    cashier_name TEXT NOT NULL,
                    item_count INTEGER NOT NULL,
                    total INTEGER NOT NULL,
                    events TEXT NOT NULL
                );

                CREATE TABLE cancelled_sale (
                    sale_id TEXT PRIMARY KEY NOT NULL,
                    started_at INTEGER NOT NULL,
                    cancelled_at INTEGER NOT NULL,
                    cashier_number TEXT NOT NULL,
                    item_count INTEGER NOT NULL,
                    total INTEGER NOT NULL,
                    events TEXT NOT NULL
                );

                -- The sales journal: append-only.
                CREATE TABLE sale (
                    id TEXT PRIMARY KEY NOT NULL,
                    store_id TEXT NOT NULL,
                    till_id TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    receipt_number TEXT NOT NULL UNIQUE,
                    cashier_number TEXT NOT NULL,
                    started_at INTEGER NOT NULL,
                    completed_at INTEGER NOT NULL,
                    currency TEXT NOT NULL,
                    subtotal INTEGER NOT NULL,
                    line_discounts INTEGER NOT NULL,
                    sale_discount INTEGER NOT NULL,
                    total INTEGER NOT NULL,
                    paid INTEGER NOT NULL,
                    change INTEGER NOT NULL,
                    item_count INTEGER NOT NULL,
                    document TEXT NOT NULL,
                    UNIQUE (till_id, sequence)
                );
                CREATE INDEX sale_completed_at ON sale(completed_at);
                CREATE TABLE sale_line (
                    sale_id TEXT NOT NULL REFERENCES sale(id),
                    line_number INTEGER NOT NULL,
                    sku TEXT NOT NULL,
                    description TEXT NOT NULL,
                    quantity_milli INTEGER NOT NULL,
                    unit_price INTEGER NOT NULL,
                    amount INTEGER NOT NULL,
                    line_discount INTEGER NOT NULL,
                    sale_discount_share INTEGER NOT NULL,
                    net INTEGER NOT NULL,
                    tax_code TEXT NOT NULL,
                    tax_rate_bp INTEGER NOT NULL,
                    voided INTEGER NOT NULL,
                    PRIMARY KEY (sale_id, line_number)
                ) WITHOUT ROWID;
                CREATE TABLE sale_vat (
                    sale_id TEXT NOT NULL REFERENCES sale(id),
                    tax_code TEXT NOT NULL,
                    rate_bp INTEGER NOT NULL,
                    gross INTEGER NOT NULL,
                    vat INTEGER NOT NULL,
                    net INTEGER NOT NULL,
                    PRIMARY KEY (sale_id, tax_code)
                ) WITHOUT ROWID;
                CREATE TABLE sale_tender (
                    sale_id TEXT NOT NULL REFERENCES sale(id),
                    position INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    amount INTEGER NOT NULL,
                    reference TEXT,
                    PRIMARY KEY (sale_id, position)
                ) WITHOUT ROWID;

                -- Documents waiting for head office, written with the sale they carry.
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    ref_id TEXT NOT NULL,
                    sequence INTEGER,
                    payload TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    state TEXT NOT NULL DEFAULT 'pending',
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_attempt_at INTEGER,
                    acked_at INTEGER,
                    ack_detail TEXT,
                    UNIQUE (kind, ref_id)
                );
                CREATE INDEX outbox_pending ON outbox(state, id);
                """)
            try Self.appendOnly(["sale", "sale_line", "sale_vat", "sale_tender"], "the sales journal", db: db)
        }
        m.registerMigration("v2-print-queue") { db in
            try db.execute(sql: """
                -- Receipts and other jobs for the printer; a sale's receipt is written with the sale.
                CREATE TABLE print_job (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    sale_id TEXT,
                    receipt_number TEXT,
                    payload BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    state TEXT NOT NULL DEFAULT 'pending',
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_attempt_at INTEGER,
                    last_error TEXT,
                    printed_at INTEGER
                );
                CREATE INDEX print_job_state ON print_job(state, id);
                CREATE INDEX print_job_sale ON print_job(sale_id);
                """)
        }
        m.registerMigration("v3-loyalty") { db in
            try db.execute(sql: """
                -- The loyalty programme in force (versioned JSON).
                CREATE TABLE programme (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    version TEXT NOT NULL,
                    json TEXT NOT NULL,
                    applied_at INTEGER NOT NULL
                );
                CREATE TABLE customer (
                    id TEXT PRIMARY KEY NOT NULL,
                    first_name TEXT NOT NULL,
                    last_name TEXT NOT NULL COLLATE NOCASE,
                    phone TEXT,
                    phone_digits TEXT,
                    email TEXT,
                    postcode TEXT,
                    birth_date TEXT,
                    marketing_consent INTEGER NOT NULL DEFAULT 0,
                    registered_at INTEGER NOT NULL
                );
                CREATE INDEX customer_phone ON customer(phone_digits);
                CREATE INDEX customer_email ON customer(email);
                CREATE INDEX customer_last_name ON customer(last_name);
                -- The card cache: every card of the programme, so the till identifies any of them offline.
                CREATE TABLE card (
                    number TEXT PRIMARY KEY NOT NULL,
                    customer_id TEXT REFERENCES customer(id),
                    status TEXT NOT NULL DEFAULT 'active',
                    confirmed_balance INTEGER NOT NULL DEFAULT 0,
                    confirmed_at INTEGER,
                    tier_code TEXT,
                    qualifying INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                CREATE INDEX card_customer ON card(customer_id);
                -- Points movements made by this till: appended, never changed but for head office's confirmation.
                CREATE TABLE loyalty_movement (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    card_number TEXT NOT NULL,
                    sale_id TEXT,
                    kind TEXT NOT NULL,
                    points INTEGER NOT NULL,
                    rule TEXT,
                    label TEXT,
                    created_at INTEGER NOT NULL,
                    confirmed INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX loyalty_movement_card ON loyalty_movement(card_number, confirmed);
                ALTER TABLE sale ADD COLUMN card_number TEXT;
                ALTER TABLE sale ADD COLUMN loyalty_spend INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX sale_card ON sale(card_number, completed_at);
                ALTER TABLE sale_line ADD COLUMN category TEXT NOT NULL DEFAULT '';
                """)
        }
        m.registerMigration("v4-store-and-forward") { db in
            // Head office's acks confirm a sale's points movements by sale: without this index
            // each ack read every movement, and a week of unsent sales took hours to drain.
            try db.execute(sql: "CREATE INDEX loyalty_movement_sale ON loyalty_movement(sale_id)")
        }
        m.registerMigration("v5-cash-office") { db in
            try db.execute(sql: """
                -- Refunds: append-only like the sales journal. A refund of a receipt names its sale.
                CREATE TABLE refund (
                    id TEXT PRIMARY KEY NOT NULL,
                    store_id TEXT NOT NULL,
                    till_id TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    receipt_number TEXT NOT NULL UNIQUE,
                    original_sale_id TEXT,
                    cashier_number TEXT NOT NULL,
                    supervisor_number TEXT,
                    created_at INTEGER NOT NULL,
                    total INTEGER NOT NULL,
                    cash INTEGER NOT NULL,
                    to_card INTEGER NOT NULL,
                    points_value INTEGER NOT NULL,
                    points_restored INTEGER NOT NULL,
                    points_taken_back INTEGER NOT NULL,
                    card_number TEXT,
                    document TEXT NOT NULL,
                    UNIQUE (till_id, sequence)
                );
                CREATE INDEX refund_original ON refund(original_sale_id);
                CREATE TABLE refund_line (
                    refund_id TEXT NOT NULL REFERENCES refund(id),
                    line_number INTEGER NOT NULL,
                    original_sale_id TEXT,
                    sku TEXT NOT NULL,
                    description TEXT NOT NULL,
                    quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    tax_code TEXT NOT NULL,
                    tax_rate_bp INTEGER NOT NULL,
                    PRIMARY KEY (refund_id, line_number)
                ) WITHOUT ROWID;
                CREATE INDEX refund_line_original ON refund_line(original_sale_id, line_number);
                CREATE TABLE refund_tender (
                    refund_id TEXT NOT NULL REFERENCES refund(id),
                    position INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    amount INTEGER NOT NULL,
                    reference TEXT,
                    points INTEGER,
                    PRIMARY KEY (refund_id, position)
                ) WITHOUT ROWID;
                CREATE TABLE refund_vat (
                    refund_id TEXT NOT NULL REFERENCES refund(id),
                    tax_code TEXT NOT NULL,
                    rate_bp INTEGER NOT NULL,
                    gross INTEGER NOT NULL,
                    vat INTEGER NOT NULL,
                    net INTEGER NOT NULL,
                    PRIMARY KEY (refund_id, tax_code)
                ) WITHOUT ROWID;
                -- Sales of other tills of the store, fetched from head office for a return here,
                -- with the refunds head office knew of them.
                CREATE TABLE remote_sale (
                    id TEXT PRIMARY KEY NOT NULL,
                    receipt_number TEXT NOT NULL UNIQUE,
                    document TEXT NOT NULL,
                    refunds TEXT NOT NULL,
                    fetched_at INTEGER NOT NULL
                );
                -- Cash into and out of the drawer outside sales.
                CREATE TABLE cash_movement (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    reason TEXT,
                    cashier_number TEXT NOT NULL,
                    supervisor_number TEXT,
                    created_at INTEGER NOT NULL
                );
                -- Every key action: who, when, which sale.
                CREATE TABLE audit_event (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at INTEGER NOT NULL,
                    action TEXT NOT NULL,
                    cashier_number TEXT,
                    supervisor_number TEXT,
                    sale_id TEXT,
                    detail TEXT NOT NULL
                );
                CREATE INDEX audit_event_at ON audit_event(at);
                -- Z reports: each closes a period; the marks say where the next period starts.
                CREATE TABLE z_report (
                    number INTEGER PRIMARY KEY,
                    opened_at INTEGER NOT NULL,
                    closed_at INTEGER NOT NULL,
                    last_sale_sequence INTEGER NOT NULL,
                    last_refund_sequence INTEGER NOT NULL,
                    last_cash_id INTEGER NOT NULL,
                    last_audit_id INTEGER NOT NULL,
                    last_cancel_rowid INTEGER NOT NULL,
                    last_movement_id INTEGER NOT NULL,
                    counted INTEGER,
                    document TEXT NOT NULL
                );
                """)
            try Self.appendOnly(["refund", "refund_line", "refund_tender", "refund_vat", "cash_movement", "audit_event", "z_report"],
                           "the cash office journal", db: db)
        }
        m.registerMigration("v6-publications") { db in
            try db.execute(sql: """
                -- Publications from head office: received, then applied between sales, in version order.
                CREATE TABLE publication (
                    version INTEGER PRIMARY KEY NOT NULL,
                    kind TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    received_at INTEGER NOT NULL,
                    applied_at INTEGER,
                    problem TEXT
                );
                -- Terminal settings from head office (over the configuration file's).
                CREATE TABLE terminal_setting (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    json TEXT NOT NULL,
                    version INTEGER NOT NULL
                );
                """)
        }
        m.registerMigration("v7-publication-release-order") { db in
            // Publications are applied in the order they come into force (a scheduled one may come
            // into force after newer ones): keep each one's time.
            try db.execute(sql: "ALTER TABLE publication ADD COLUMN effective_at INTEGER NOT NULL DEFAULT 0")
            for row in try Row.fetchAll(db, sql: "SELECT version, payload FROM publication") {
                let payload: String = row["payload"]
                if let p = try? JSONDecoder().decode(Publication.self, from: Data(payload.utf8)) {
                    try db.execute(sql: "UPDATE publication SET effective_at = ? WHERE version = ?", arguments: [p.effectiveAt, p.version])
                }
            }
            try db.execute(sql: "CREATE INDEX publication_release ON publication (effective_at, version)")
        }
        m.registerMigration("v8-customer-search") { db in
            // Phones found by their last digits (reversed, so a range of the index), first names
            // by their start whatever the case.
            try db.execute(sql: "ALTER TABLE customer ADD COLUMN phone_rev TEXT")
            let update = try db.makeStatement(sql: "UPDATE customer SET phone_rev = ? WHERE id = ?")
            for row in try Row.fetchAll(db, sql: "SELECT id, phone_digits FROM customer WHERE phone_digits IS NOT NULL") {
                let digits: String = row["phone_digits"]
                try update.execute(arguments: [String(digits.filter(\.isASCIIDigit).reversed()), row["id"] as String])
            }
            try db.execute(sql: "CREATE INDEX customer_phone_rev ON customer(phone_rev)")
            try db.execute(sql: "CREATE INDEX customer_first_name ON customer(first_name COLLATE NOCASE)")
            // Phones are found by phone_rev now.
            try db.execute(sql: "DROP INDEX customer_phone")
        }
        m.registerMigration("v9-sign-on-lockout") { db in
            // Wrong PINs by cashier number, apart from the staff list (head office replaces that).
            try db.execute(sql: """
                CREATE TABLE sign_on_lockout (
                    number TEXT PRIMARY KEY NOT NULL,
                    wrong INTEGER NOT NULL DEFAULT 0,
                    locked_at INTEGER
                ) WITHOUT ROWID
                """)
        }
        m.registerMigration("v10-product-search") { db in
            // Products found by words of their name or category (Ctrl-T): a full-text index over
            // the catalog, rebuilt by each catalog import (`rebuildProductSearch`): names and
            // categories change only there.
            try db.execute(sql: """
                CREATE VIRTUAL TABLE product_search USING fts5(
                    description, category, content='product', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2', prefix='2 3')
                """)
            try rebuildProductSearch(db)
        }
        m.registerMigration("v11-customer-by-id") { db in
            // The card cache's members kept in the order of their id, without a rowid: one b-tree
            // to write a member into instead of two (a national chain loads millions). phone_digits
            // goes: phones are found by phone_rev since v8.
            try db.execute(sql: """
                CREATE TABLE customer_new (
                    id TEXT PRIMARY KEY NOT NULL,
                    first_name TEXT NOT NULL,
                    last_name TEXT NOT NULL COLLATE NOCASE,
                    phone TEXT,
                    phone_rev TEXT,
                    email TEXT,
                    postcode TEXT,
                    birth_date TEXT,
                    marketing_consent INTEGER NOT NULL DEFAULT 0,
                    registered_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                INSERT INTO customer_new (id, first_name, last_name, phone, phone_rev, email, postcode, birth_date, marketing_consent, registered_at)
                    SELECT id, first_name, last_name, phone, phone_rev, email, postcode, birth_date, marketing_consent, registered_at FROM customer;
                DROP TABLE customer;
                ALTER TABLE customer_new RENAME TO customer;
                CREATE INDEX customer_email ON customer(email);
                CREATE INDEX customer_last_name ON customer(last_name);
                CREATE INDEX customer_phone_rev ON customer(phone_rev);
                CREATE INDEX customer_first_name ON customer(first_name COLLATE NOCASE);
                """)
        }
        m.registerMigration("v12-return-reason") { db in
            // Why the goods came back ([cash_office] return_reasons), for the slip and the reports.
            try db.execute(sql: "ALTER TABLE refund ADD COLUMN reason TEXT")
        }
        m.registerMigration("v13-card-replaced-by") { db in
            // The card that replaced a lost one (head office's card publications), named when the old card is scanned.
            try db.execute(sql: "ALTER TABLE card ADD COLUMN replaced_by TEXT")
        }
        m.registerMigration("v14-card-expiring") { db in
            // Points of the card that expire soon, and when, as head office last said (JSON
            // [{points, at}]): the offline view takes them off once their time has passed.
            try db.execute(sql: "ALTER TABLE card ADD COLUMN expiring TEXT")
        }
        m.registerMigration("v15-personal-offers") { db in
            // Campaigns' personal offers (head office's offers publications): each offer's terms,
            // and each member's uses of it as head office last said; this till's own uses are
            // its loyalty movements with the offer's rule.
            try db.execute(sql: """
                CREATE TABLE offer (id TEXT PRIMARY KEY, json TEXT NOT NULL, valid_to INTEGER NOT NULL);
                CREATE TABLE member_offer (customer_id TEXT NOT NULL, offer_id TEXT NOT NULL, uses INTEGER NOT NULL,
                    PRIMARY KEY (customer_id, offer_id));
                CREATE INDEX loyalty_movement_rule ON loyalty_movement (rule) WHERE rule LIKE 'offer:%';
                """)
        }
        m.registerMigration("v16-redemption-hold") { db in
            // Head office held the card's points (a cards publication): none may be spent here.
            try db.execute(sql: "ALTER TABLE card ADD COLUMN redemption_hold INTEGER NOT NULL DEFAULT 0")
        }
        m.registerMigration("v17-suggestions") { db in
            // Head office's cross-sell suggestions (a suggestions publication): for each item, the
            // items bought with it, best first; and the scope they came for (a store group's win
            // over the chain's).
            try db.execute(sql: """
                CREATE TABLE suggestion (sku TEXT NOT NULL, rank INTEGER NOT NULL, also TEXT NOT NULL, PRIMARY KEY (sku, rank)) WITHOUT ROWID;
                CREATE TABLE suggestion_source (id INTEGER PRIMARY KEY CHECK (id = 1), scope TEXT NOT NULL, mined_at INTEGER NOT NULL);
                """)
        }
        m.registerMigration("v18-challenges") { db in
            // Head office's count of the card's member in the challenges (a card lookup's answer,
            // JSON), and this till's own sales' parts in them, counted until head office has them.
            try db.execute(sql: """
                ALTER TABLE card ADD COLUMN challenges TEXT;
                CREATE TABLE challenge_event (customer_id TEXT NOT NULL, challenge_id TEXT NOT NULL, sale_id TEXT NOT NULL, at INTEGER NOT NULL,
                    amount INTEGER NOT NULL, PRIMARY KEY (customer_id, challenge_id, sale_id)) WITHOUT ROWID;
                """)
        }
        return m
    }

    /// Makes `tables` append-only: SQLite refuses any UPDATE or DELETE on them, naming `journal`
    /// (the same triggers, names and messages as migrations v1 and v5 have always made).
    static func appendOnly(_ tables: [String], _ journal: String, db: Database) throws {
        for table in tables {
            try db.execute(sql: """
                CREATE TRIGGER \(table)_no_update BEFORE UPDATE ON \(table)
                BEGIN SELECT RAISE(ABORT, '\(journal) is append-only'); END;
                CREATE TRIGGER \(table)_no_delete BEFORE DELETE ON \(table)
                BEGIN SELECT RAISE(ABORT, '\(journal) is append-only'); END;
                """)
        }
    }
}
