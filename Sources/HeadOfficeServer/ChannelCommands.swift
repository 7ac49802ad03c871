import ArgumentParser
import Foundation
import HeadOffice
import TillProtocol

/// `headoffice channel`: keys for the web shop, the app, a partner's system (the channel API).
struct ChannelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channel",
        abstract: "Keys for points outside the store: a web shop, an app, a partner's system (the channel API).",
        subcommands: [Add.self, Revoke.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a channel its key (printed once, or written to --output with mode 0600; only a hash is kept).",
            discussion: "The channel sends it as Authorization: Bearer ch.NAME.SECRET (docs/headoffice-api.yaml, channel).")
        @OptionGroup var db: DatabaseOption
        @Argument(help: "The channel's name, e.g. web-shop.") var name: String
        @Option(help: "What the key may do: earn, redeem, read, comma-separated.") var scopes = "earn,redeem,read"
        @Flag(help: "Issue a new key to a channel that has one (the old key stops working).") var replace = false
        @Option(help: ArgumentHelp("Write the key to this file (mode 0600) instead of printing it.", valueName: "file")) var output: String?

        func run() throws {
            var wanted: Set<ChannelScope> = []
            for s in scopes.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !s.isEmpty {
                guard let scope = ChannelScope(rawValue: s) else { throw CLIFailure("--scopes: '\(s)' is not a scope: use earn, redeem and read") }
                wanted.insert(scope)
            }
            let key: String
            do { key = try db.open().addChannel(name, scopes: wanted, replace: replace) } catch let e as ChannelRefusal { throw CLIFailure(e.message) }
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600])
                else { throw CLIFailure("Cannot write \(output)") }
                print("Channel \(name) (\(wanted.map(\.rawValue).sorted().joined(separator: ", "))) has its key in \(output) (mode 0600).")
            } else {
                print(key)
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a channel's key: its requests get 401 at once.")
        @OptionGroup var db: DatabaseOption
        @Argument var name: String
        func run() throws {
            do { try db.open().revokeChannel(name) } catch let e as ChannelRefusal { throw CLIFailure(e.message) }
            print("Channel \(name)'s key is revoked.")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the channels, their scopes, and whether their key is in use.")
        @OptionGroup var db: DatabaseOption
        func run() throws {
            let all = try db.open().channels()
            if all.isEmpty { print("No channel has a key: headoffice channel add web-shop") }
            for c in all {
                print("\(c.name)  \(c.scopes.map(\.rawValue).sorted().joined(separator: ","))  since \(ProtocolTime.format(c.createdAt))\(c.revokedAt.map { "  REVOKED " + ProtocolTime.format($0) } ?? "")")
            }
        }
    }
}

/// `headoffice webhook`: a CRM's subscriptions to points movements, registrations, tier changes
/// and card replacements, and the delivery log.
struct WebhookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Signed webhooks for a CRM: ledger.movements, member.registered, tier.changed, card.replaced.",
        subcommands: [Add.self, Revoke.self, List.self, Log.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Subscribe a URL; prints the secret its deliveries are signed with (HMAC-SHA256, the Webhook-Signature header).")
        @OptionGroup var db: DatabaseOption
        @Argument(help: "Where to POST, e.g. https://crm.example.com/hooks/loyalty.") var url: String
        @Option(help: "Events, comma-separated, or * for all.") var events = "*"
        func run() throws {
            do {
                let (id, secret) = try db.open().addWebhook(url: url, events: events.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                print("Webhook \(id) → \(url)\nSecret (shown once; deliveries are signed with it): \(secret)")
            } catch let e as ChannelRefusal { throw CLIFailure(e.message) }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a webhook: nothing more is sent to it, waiting deliveries are cancelled.")
        @OptionGroup var db: DatabaseOption
        @Argument var id: Int64
        func run() throws {
            do { try db.open().revokeWebhook(id) } catch let e as ChannelRefusal { throw CLIFailure(e.message) }
            print("Webhook \(id) is stopped.")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The webhooks and how their deliveries stand.")
        @OptionGroup var db: DatabaseOption
        func run() throws {
            let all = try db.open().webhooks()
            if all.isEmpty { print("No webhook: headoffice webhook add https://crm.example.com/hooks") }
            for w in all {
                print("\(w.id)  \(w.url)  \(w.events.joined(separator: ","))  delivered \(w.delivered), waiting \(w.pending), failed \(w.failed)\(w.revokedAt == nil ? "" : "  STOPPED")")
            }
        }
    }

    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The delivery log, newest first: attempts, the last answer, when it is tried again.")
        @OptionGroup var db: DatabaseOption
        @Option(help: "Only this webhook's deliveries.") var webhook: Int64?
        @Option(help: "How many.") var limit = 50
        func run() throws {
            for d in try db.open().webhookDeliveries(webhook: webhook, limit: max(1, min(limit, 10_000))) {
                let answer = d.lastStatus.map { "HTTP \($0)" } ?? d.lastError ?? "-"
                let when = d.state == "pending" ? "  next \(ProtocolTime.format(d.nextAt))" : d.deliveredAt.map { "  at \(ProtocolTime.format($0))" } ?? ""
                print("\(d.id)  webhook \(d.webhookID)  \(d.event)  \(d.state)  attempts \(d.attempts)  \(answer)\(when)")
            }
        }
    }
}
