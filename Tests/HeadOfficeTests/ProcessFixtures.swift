import Foundation
import HeadOffice
import PrivateServers
import Testing
import TillCore
import TillDocuments
import TillProtocol
import TillStore
import TillSync
import TillTestSupport

/// The `headoffice` binary serving on a fixed loopback port (so a till finds it again after a
/// restart), with the demo programme and cards loaded.
final class HeadOfficeProcess: @unchecked Sendable { // used by one test at a time
    let binary = PackagePaths.binary("headoffice")
    let dir: TemporaryDirectory
    let database: String
    let port = PrivatePostgres.freePort()
    private(set) var pid: Int32?
    var url: String { "http://127.0.0.1:\(port)" }
    /// More arguments for `headoffice serve` (e.g. `--config FILE`).
    var serveArguments: [String] = []

    init(_ backend: Backend, dir: TemporaryDirectory, cards: Int = 20) throws {
        self.dir = dir
        database = try backend.databaseArgument(in: dir)
        try admin(["demo", "--cards", String(cards)])
    }

    /// A second head office process on the same database as `other` (PostgreSQL: several
    /// `headoffice serve` behind one load balancer).
    init(sharing other: HeadOfficeProcess, dir: TemporaryDirectory) {
        self.dir = dir
        database = other.database
    }

    deinit { kill() }

    /// Runs an administration command against the database; returns its output.
    @discardableResult
    func admin(_ args: [String]) throws -> String {
        let r = try runProcess(binary, args + ["--database", database])
        guard r.status == 0 else { throw SpawnError(message: "headoffice \(args.joined(separator: " ")) failed: \(r.stderr)") }
        return r.stdout
    }

    /// Registers a till and writes its token to a file; returns the file.
    func register(store: String = "0001", till: String) throws -> String {
        let file = dir.file("till-\(store)-\(till).token")
        try admin(["till", "register", "--store", store, "--till", till, "--output", file])
        return file
    }

    /// Starts serving and waits until /health answers. `softDescriptorLimit`: start it as a shell
    /// with the common default (1,024 open files) would (through prlimit).
    func start(softDescriptorLimit: Int? = nil) throws {
        precondition(pid == nil)
        let serve = ["serve", "--database", database, "--port", String(port)] + serveArguments
        if let limit = softDescriptorLimit {
            var hard = rlimit()
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &hard)
            pid = try spawn("/usr/bin/prlimit", ["--nofile=\(limit):\(hard.rlim_max)", binary] + serve,
                            environment: ProcessInfo.processInfo.environment, stdout: dir.file("serve.out"), stderr: dir.file("serve.err"))
        } else {
            pid = try spawn(binary, serve, environment: ProcessInfo.processInfo.environment, stdout: dir.file("serve.out"), stderr: dir.file("serve.err"))
        }
        let deadline = Date().addingTimeInterval(30)
        let http = HTTPConnection()
        while Date() < deadline {
            if let a = try? http.send("GET", url + "/health", timeoutMilliseconds: 1_000), a.status == 200 { return }
            var status: Int32 = 0
            if let pid, waitpid(pid, &status, WNOHANG) == pid {
                self.pid = nil
                let err = (try? String(contentsOfFile: dir.file("serve.err"), encoding: .utf8)) ?? ""
                throw SpawnError(message: "headoffice serve exited: \(err)")
            }
            usleep(50_000)
        }
        throw SpawnError(message: "headoffice serve did not answer /health within 30 s")
    }

    /// SIGKILL: no chance to finish anything.
    func kill() {
        guard let pid else { return }
        _ = Glibc.kill(pid, SIGKILL)
        _ = waitForExit(pid)
        self.pid = nil
    }

    /// The process ended by other means (the test waited for it).
    func forget() { pid = nil }

    /// How many sales /health reports (nil when it does not answer).
    func salesCount() -> Int? {
        guard let a = try? HTTPConnection().send("GET", url + "/health", timeoutMilliseconds: 2_000), a.status == 200,
              let o = try? JSONDecoder().decode([String: String].self, from: Data(a.body)) else { return nil }
        return o["sales"].flatMap(Int.init)
    }

    /// The database, opened directly, to check what head office holds.
    func store() throws -> HeadOfficeStore {
        let db: any SQLDatabase = database.hasPrefix("postgres://") ? try PostgresDatabase(url: database) : try SQLiteDatabase(path: database)
        return try HeadOfficeStore(database: db)
    }
}

/// A till set up by its own CLI (`till demo`, `till sync enrol`) pointing at a head office.
final class TillProcess: @unchecked Sendable {
    let binary = PackagePaths.binary("till")
    let dir = TemporaryDirectory("till-proc")
    let config: String
    let tillID: String
    let storeID: String

    /// `extra`: more sections of till.toml (e.g. [printer], [loyalty]).
    init(headOffice: HeadOfficeProcess, storeID: String = "0001", tillID: String = "01", batchSize: Int = 200, cards: Int = 20,
         extra: String = "") throws {
        self.tillID = tillID
        self.storeID = storeID
        config = dir.write("till.toml", """
            [till]
            id = "\(tillID)"
            data_dir = "\(dir.file("data"))"

            [store]
            id = "\(storeID)"

            [headoffice]
            url = "\(headOffice.url)"
            batch_size = \(batchSize)

            \(extra)
            """)
        try run(["demo", "--items", "2000", "--cards", String(cards)])
        try run(["sync", "enrol", "--token-file", try headOffice.register(store: storeID, till: tillID)])
    }

    var command: String { "\(binary) --config \(config)" }
    var credential: TillCredential { TillCredential(storeID: storeID, tillID: tillID) }

    @discardableResult
    func run(_ args: [String]) throws -> String {
        let r = try runProcess(binary, args + ["--config", config], environment: ["LANG": "C.UTF-8"])
        guard r.status == 0 else { throw SpawnError(message: "till \(args.joined(separator: " ")) failed (\(r.status)): \(r.stderr)") }
        return r.stdout
    }

    /// `till sync now` in the background; returns its pid.
    func startSync() throws -> Int32 {
        try spawn(binary, ["sync", "now", "--config", config], environment: ProcessInfo.processInfo.environment,
                  stdout: dir.file("sync.out"), stderr: dir.file("sync.err"))
    }

    func database() throws -> TillDatabase { try TillDatabase(path: dir.file("data") + "/till.sqlite") }

    /// Rings sales straight into the till's journal and outbox, as the till does.
    func ring(_ count: Int, seed: UInt64) throws {
        var g = SaleGenerator(database: try database(), till: TillIdentity(storeID: "0001", storeName: "Demo Store", tillID: tillID, currency: .eur),
                              seed: seed, start: 1_795_000_000_000 + Int64(seed) * 100_000_000)
        try g.ring(count)
    }
}

/// Head office holds every till's journal exactly once and every card its expected balance.
func expectConsistent(_ ho: HeadOfficeProcess, _ tills: [TillProcess], sourceLocation: SourceLocation = #_sourceLocation) throws {
    try expectConsistent(ho.store(), journals: tills.map { ($0.credential, try $0.database()) }, sourceLocation: sourceLocation)
}

/// A real SMTP server on loopback (aiosmtpd from PyPI, in .venv-st): what head office sends lands
/// in a maildir the test reads.
final class SMTPSink: @unchecked Sendable {
    static let python = PackagePaths.root + "/.venv-st/bin/python"
    let dir: TemporaryDirectory
    let port = PrivatePostgres.freePort()
    private var pid: Int32?
    var relay: String { "smtp://127.0.0.1:\(port)" }
    var maildir: String { dir.file("maildir") }

    /// `tls`: a certificate and key: the server offers STARTTLS with them.
    init(dir: TemporaryDirectory, tls: (certificate: String, key: String)? = nil) throws {
        self.dir = dir
        guard FileManager.default.isExecutableFile(atPath: Self.python),
              (try? runProcess(Self.python, ["-c", "import aiosmtpd"]))?.status == 0 else {
            throw SpawnError(message: "aiosmtpd is not installed in .venv-st: run scripts/install-deps")
        }
        let starttls = tls.map { ["--tlscert", $0.certificate, "--tlskey", $0.key] } ?? []
        pid = try spawn(Self.python, ["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)"] + starttls + ["-c", "aiosmtpd.handlers.Mailbox", maildir],
                        environment: ProcessInfo.processInfo.environment, stdout: dir.file("smtp.out"), stderr: dir.file("smtp.err"))
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            close(fd)
            if connected == 0 { return }
            usleep(100_000)
        }
        throw SpawnError(message: "aiosmtpd did not listen on \(port): \((try? String(contentsOfFile: dir.file("smtp.err"), encoding: .utf8)) ?? "")")
    }

    deinit { stop() }

    func stop() {
        guard let pid else { return }
        kill(pid, SIGTERM)
        _ = waitForExit(pid)
        self.pid = nil
    }

    /// The messages received so far, oldest first (whole RFC 5322 text).
    func messages() -> [String] {
        let new = maildir + "/new"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: new)) ?? []).sorted()
        return names.compactMap { try? String(contentsOfFile: new + "/" + $0, encoding: .utf8) }
    }

    /// Waits for a message to `to` that `contains`, up to `timeout` seconds.
    func waitForMessage(to: String, containing text: String = "", timeout: Double = 20) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let m = messages().last(where: { $0.contains("To: \(to)") && (text.isEmpty || $0.contains(text)) }) { return m }
            usleep(100_000)
        }
        throw SpawnError(message: "no e-mail to \(to) reached the SMTP server in \(timeout) s")
    }
}
