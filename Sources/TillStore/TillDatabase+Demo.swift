import GRDB
public import TillCore

extension TillDatabase {
    /// Makes this the demo store (`till demo`): replaces the catalog with `products`, adds `staff`
    /// with their PINs, and marks the store as the demo (its sign-on screen shows the PINs). The
    /// demo's data itself is TillDemo's `DemoCatalog`.
    public func installDemo(products: [Product], staff: [(cashier: Cashier, pin: String)]) throws(TillStoreError) {
        try run("install the demo store") {
            try pool.write { db in
                try db.execute(sql: "DELETE FROM product")
                try Self.insert(products, db: db)
            }
        }
        for member in staff { try saveCashier(member.cashier, pin: member.pin) }
        try run("mark the demo store") {
            try pool.write { try $0.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('demo', '1')") }
        }
    }

    /// True when this is the demo store (`till demo`), whose sign-on screen shows the demo PINs.
    public func isDemo() throws(TillStoreError) -> Bool {
        try run("read the store's settings") {
            try pool.read { try String.fetchOne($0, sql: "SELECT value FROM meta WHERE key = 'demo'") == "1" }
        }
    }
}
