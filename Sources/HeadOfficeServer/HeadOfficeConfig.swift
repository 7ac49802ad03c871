import Foundation
import HeadOffice
import TOMLKit

/// headoffice.toml (`headoffice serve --config FILE`): today its `[mail]` section, the SMTP relay
/// the members' sign-in codes go through. Unknown sections and keys are errors.
enum HeadOfficeConfig {
    struct Problem: Error, CustomStringConvertible { var description: String }

    /// `database`: where head office keeps its data (a SQLite file or a postgres:// URL): on
    /// PostgreSQL the campaign mail journal is beside this file unless `journal` says where.
    static func mail(file: String, database: String) throws -> MailSettings? {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw Problem(description: "Cannot read \(file): check the path given to --config")
        }
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw Problem(description: "\(file) line \(e.source.begin.line), column \(e.source.begin.column): \(e.description)")
        }
        for k in root.keys where k != "mail" { throw Problem(description: "\(file): unknown section [\(k)]: the sections are mail") }
        guard let value = root["mail"] else { return nil }
        guard let mail = value.table else { throw Problem(description: "\(file): 'mail' must be a section: write [mail]") }
        let keys = ["relay", "from", "username", "password_file", "require_tls", "ca", "public_url", "connections", "journal"]
        for k in mail.keys where !keys.contains(k) {
            throw Problem(description: "\(file): [mail] has an unknown key '\(k)': the keys are \(keys.joined(separator: ", "))")
        }
        func field(_ k: String) throws -> String? {
            guard let v = mail[k] else { return nil }
            guard let s = v.string else { throw Problem(description: "\(file): [mail] \(k): \(v.debugDescription) must be text in quotes") }
            return s
        }
        guard let relay = try field("relay") else { throw Problem(description: "\(file): [mail] needs relay = \"smtp://host:587\"") }
        guard relay.hasPrefix("smtp://") || relay.hasPrefix("smtps://") else {
            throw Problem(description: "\(file): [mail] relay '\(relay)' must start smtp:// (STARTTLS when offered) or smtps:// (TLS from the start)")
        }
        guard let from = try field("from"), from.contains("@") else {
            throw Problem(description: "\(file): [mail] needs from = \"Rewards <rewards@example.com>\"")
        }
        var password: String?
        if let path = try field("password_file") {
            guard let d = FileManager.default.contents(atPath: path), let p = String(data: d, encoding: .utf8) else {
                throw Problem(description: "\(file): [mail] password_file \(path) cannot be read")
            }
            password = p.trimmingCharacters(in: .newlines)
        }
        var requireTLS = false
        if let v = mail["require_tls"] {
            guard let b = v.bool else { throw Problem(description: "\(file): [mail] require_tls: \(v.debugDescription) must be true or false") }
            requireTLS = b
        }
        let publicURL = try field("public_url")
        if let u = publicURL, !(u.hasPrefix("https://") || u.hasPrefix("http://")) || URL(string: u)?.host == nil {
            throw Problem(description: "\(file): [mail] public_url '\(u)' must be head office's address as members reach it, e.g. \"https://rewards.example.com\"")
        }
        var connections = 16
        if let v = mail["connections"] {
            guard let n = v.int, (1...64).contains(n) else { throw Problem(description: "\(file): [mail] connections: \(v.debugDescription) must be a whole number from 1 to 64") }
            connections = n
        }
        var journal = try field("journal")
        if journal?.isEmpty == true { throw Problem(description: "\(file): [mail] journal must name a file head office may write") }
        if journal == nil, database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") {
            journal = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("headoffice-mail-journal").path
        }
        return MailSettings(relay: relay, from: from, username: try field("username"), password: password, requireTLS: requireTLS, ca: try field("ca"),
                            publicURL: publicURL, connections: connections, journal: journal)
    }
}
