import ArgumentParser
import Foundation
import TillCore
import TillProtocol
import TillStore
import TillSync

extension TillConfig {
    /// Head office's address and this till's credential, when both are set up.
    func headOfficeLink() throws -> HeadOfficeLink? {
        guard let url = headOfficeURL else { return nil }
        guard let token = Self.readToken(tokenPath) else { return nil }
        return HeadOfficeLink(url: url, ca: headOfficeCA, token: token, batchSize: syncBatchSize,
                              lookupTimeoutMilliseconds: cardLookupTimeoutMilliseconds)
    }

    /// The link for a command that needs head office, or a message saying what to set up.
    func requireHeadOfficeLink() throws -> HeadOfficeLink {
        guard headOfficeURL != nil else { throw CLIError("No head office is configured: set [headoffice] url in \(source)") }
        guard let link = try headOfficeLink() else {
            throw CLIError("This till is not enrolled: run till sync enrol --token-file FILE (the file headoffice till register wrote)")
        }
        return link
    }

    static func readToken(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return token.isEmpty ? nil : token
    }
}

/// The status bar's view of store-and-forward: what is unsent and how old, head office's state.
enum SyncStatusLine {
    static func items(db: TillDatabase, forwarder: Forwarder?, now: Date = Date()) -> [String] {
        let summary = try? db.outboxSummary()
        var unsent = "Unsent: \(summary?.pending ?? 0)"
        if let oldest = summary?.oldestPendingAt, (summary?.pending ?? 0) > 0 {
            unsent += " (oldest \(age(now.timeIntervalSince1970 * 1000 - Double(oldest))))"
        }
        var items = [unsent]
        if let r = summary?.rejected, r > 0 { items.append("REJECTED: \(r) (till sync status)") }
        guard let forwarder else { return items }
        let s = forwarder.snapshot
        let contact = s.lastContact.map { "last contact " + clock($0) } ?? "no contact yet"
        switch s.connection {
        case .revoked: items.append("Head office: REVOKED (\(s.lastError ?? "401"))")
        case .offline: items.append("Head office: offline, \(contact)")
        case .online: items.append("Head office: \(contact)")
        case .unknown: items.append("Head office: connecting")
        }
        return items
    }

    static func age(_ ms: Double) -> String {
        let s = Int(max(0, ms) / 1000)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        if s < 86_400 { return "\(s / 3600)h\(s % 3600 / 60)m" }
        return "\(s / 86_400)d"
    }

    static func clock(_ t: Timestamp) -> String {
        let f = DateFormatter()
        f.dateFormat = "HH:mm:ss"
        return f.string(from: Date(timeIntervalSince1970: Double(t) / 1000))
    }
}

extension TillCommand {
    struct Sync: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store-and-forward to head office: status, send now, enrol this till.",
            subcommands: [Status.self, Now.self, Enrol.self, Retry.self, Staff.self])

        struct Status: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "What is waiting for head office, what it refused, and whether it answers now (it is asked).")
            @OptionGroup var global: GlobalOptions
            func run() throws {
                let config = try global.loadConfig()
                let db = try config.openDatabase()
                let s = try db.outboxSummary()
                print("Unsent documents: \(s.pending)" + (s.oldestPendingAt.map { ", the oldest from \(Date(timeIntervalSince1970: Double($0) / 1000))" } ?? ""))
                print("Last acknowledged: " + (s.lastAckAt.map { "\(Date(timeIntervalSince1970: Double($0) / 1000))" } ?? "never"))
                guard let url = config.headOfficeURL else {
                    print("Head office: not configured ([headoffice] url in \(config.source)); the sales wait in the outbox.")
                    return
                }
                print("Head office: \(url)" + (config.headOfficeCA.map { " (CA \($0))" } ?? ""))
                let token = TillConfig.readToken(config.tokenPath)
                if token == nil {
                    print("This till is not enrolled: run till sync enrol --token-file FILE (from headoffice till register).")
                }
                // Asked now, not remembered: the forwarder's last contact may be old.
                let cursor = try db.receivedPublicationCursor()
                for line in HeadOfficeCheck.ask(url: url, ca: config.headOfficeCA, token: token, after: (cursor.version, cursor.effectiveAt)).lines {
                    print(line)
                }
                if s.rejected > 0 {
                    print("Refused by head office (\(s.rejected)); they stay here, `till sync retry` sends them again:")
                    for r in try db.rejectedDocuments() {
                        print("  \(r.kind) \(r.sequence.map { "#\($0) " } ?? "")\(r.refID): \(r.reason)")
                    }
                }
            }
        }

        struct Now: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Send everything unsent to head office now, and say what it answered.")
            @OptionGroup var global: GlobalOptions
            func run() throws {
                let config = try global.loadConfig()
                let db = try config.openDatabase()
                let link = try config.requireHeadOfficeLink()
                let before = try db.outboxSummary().pending
                let f = Forwarder(link: link, database: db, storeID: config.storeID, tillID: config.tillID)
                let r = f.drain()
                print("Sent \(r.sent) of \(before): \(r.accepted) accepted, \(r.duplicates) already there, \(r.rejected) refused.")
                if !r.gaps.isEmpty {
                    print("Head office is missing sales " + r.gaps.map { $0.from == $0.to ? "\($0.from)" : "\($0.from)-\($0.to)" }.joined(separator: ", "))
                }
                if let why = r.stoppedBy { throw CLIError("Stopped: \(why). \(try db.outboxSummary().pending) documents wait in the outbox; nothing is lost.") }
            }
        }

        struct Enrol: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Store this till's head office credential (mode 0600).")
            @OptionGroup var global: GlobalOptions
            @Option(help: ArgumentHelp("The file `headoffice till register --output` wrote.", valueName: "file")) var tokenFile: String?
            @Option(help: ArgumentHelp("The token itself (STORE.TILL.SECRET).", valueName: "token")) var token: String?

            func validate() throws {
                if (tokenFile == nil) == (token == nil) { throw ValidationError("Give --token-file FILE or --token TOKEN") }
            }

            func run() throws {
                let config = try global.loadConfig()
                let text = try token ?? {
                    guard let t = TillConfig.readToken(tokenFile!) else { throw CLIError("\(tokenFile!) cannot be read or is empty") }
                    return t
                }()
                let parts = text.split(separator: ".")
                guard parts.count == 3 else { throw CLIError("'\(text.prefix(20))…' is not a till token STORE.TILL.SECRET: copy it whole from headoffice till register") }
                guard parts[0] == config.storeID, parts[1] == config.tillID else {
                    throw CLIError("This token is for till \(parts[0])/\(parts[1]); this till is \(config.storeID)/\(config.tillID) (see [store] id and [till] id)")
                }
                try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
                guard FileManager.default.createFile(atPath: config.tokenPath, contents: Data((text + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                    throw CLIError("Cannot write \(config.tokenPath)")
                }
                chmod(config.tokenPath, 0o600)
                print("Enrolled: till \(config.storeID)/\(config.tillID)'s credential is in \(config.tokenPath) (mode 0600).")
                if config.headOfficeURL == nil { print("Set [headoffice] url in \(config.source) to start sending.") }
            }
        }

        struct Staff: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Take head office's staff (numbers, names, roles, PIN hashes) as this till's cashiers now.",
                discussion: "The running till does this by itself every 5 minutes. Anyone head office no longer lists can no longer sign on.")
            @OptionGroup var global: GlobalOptions
            func run() throws {
                let config = try global.loadConfig()
                let db = try config.openDatabase()
                let link = try config.requireHeadOfficeLink()
                let f = Forwarder(link: link, database: db, storeID: config.storeID, tillID: config.tillID)
                do {
                    let n = try f.pullStaff()
                    print("This till now has \(n) staff from head office.")
                } catch {
                    throw CLIError("The staff list was not taken (\(error)); the till keeps its cashiers as they were.")
                }
            }
        }

        struct Retry: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Put the documents head office refused back in the queue.")
            @OptionGroup var global: GlobalOptions
            func run() throws {
                let db = try global.loadConfig().openDatabase()
                print("\(try db.retryRejected()) documents are queued again.")
            }
        }
    }
}
