import Foundation
import Synchronization

/// A private PostgreSQL cluster for the tests and benchmarks: `initdb` into a temporary
/// directory, `postgres` listening on 127.0.0.1 on a free port, stopped when the process exits.
/// Started once per process; every caller gets its own fresh database. As root, the cluster runs
/// as the `postgres` system user (PostgreSQL refuses to run as root).
public final class PrivatePostgres: Sendable {
    public let directory: String
    public let port: Int
    let bin: String
    let user: String?

    /// The cluster of this process, started on first use; nil with the reason when PostgreSQL is
    /// not installed (scripts/install-deps installs it).
    public static let shared: Result<PrivatePostgres, PostgresUnavailable> = {
        do { return .success(try PrivatePostgres()) } catch let e as PostgresUnavailable { return .failure(e) } catch {
            return .failure(PostgresUnavailable(reason: "\(error)"))
        }
    }()

    init() throws {
        guard let bin = Self.findBin() else {
            throw PostgresUnavailable(reason: "PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)")
        }
        self.bin = bin
        user = getuid() == 0 ? "postgres" : nil
        directory = "/tmp/till-pg-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let user { _ = try Self.run("/bin/chown", [user, directory]) }
        port = Self.freePort()
        let initdb = try Self.run(bin + "/initdb", ["-D", directory + "/data", "-U", "till", "--auth=trust", "-E", "UTF8", "--no-sync"], as: user)
        guard initdb.status == 0 else { throw PostgresUnavailable(reason: "initdb failed: \(initdb.output)") }
        let options = "-c listen_addresses=127.0.0.1 -p \(port) -k \(directory) -c fsync=off -c synchronous_commit=off -c max_connections=200 -c shared_buffers=128MB"
        let start = try Self.run(bin + "/pg_ctl", ["-D", directory + "/data", "-o", options, "-l", directory + "/log", "-w", "-t", "30", "start"], as: user)
        guard start.status == 0 else {
            let log = (try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? ""
            throw PostgresUnavailable(reason: "PostgreSQL did not start: \(start.output) \(log)")
        }
        let dir = directory, pgctl = bin + "/pg_ctl", owner = user
        AtExit.register {
            _ = try? PrivatePostgres.run(pgctl, ["-D", dir + "/data", "-m", "immediate", "stop"], as: owner)
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    /// A new empty database; returns its postgres:// URL.
    public func makeDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        let r = try Self.run("/usr/bin/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "till", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                                               "-c", "CREATE DATABASE \(name)"])
        guard r.status == 0 else { throw PostgresUnavailable(reason: "CREATE DATABASE failed: \(r.output)") }
        return url(name)
    }

    public func url(_ database: String) -> String { "postgres://till@127.0.0.1:\(port)/\(database)" }

    static func findBin() -> String? {
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted()
        for v in versions.reversed() where FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\(v)/bin/initdb") {
            return "/usr/lib/postgresql/\(v)/bin"
        }
        return nil
    }

    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Runs through `spawnAndWait`, not Foundation's `Process`: the server `pg_ctl start` leaves
    /// behind inherits the descriptor `Process` watches for the child's exit, so it never returns.
    static func run(_ path: String, _ args: [String], as user: String? = nil) throws -> (status: Int32, output: String) {
        let env = ProcessInfo.processInfo.environment
        let r = user.map { try? spawnAndWait("/usr/sbin/runuser", ["-u", $0, "--", path] + args, environment: env) }
            ?? (try? spawnAndWait(path, args, environment: env))
        guard let r else { throw PostgresUnavailable(reason: "cannot run \(path)") }
        return (r.status, r.stdout + r.stderr)
    }
}

public struct PostgresUnavailable: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var description: String { reason }
}

/// Clean-ups to run when the process exits normally.
public enum AtExit {
    private static let actions = Mutex<[@Sendable () -> Void]>([])
    private static let installed: Bool = {
        atexit { AtExit.runAll() }
        return true
    }()

    public static func register(_ action: @escaping @Sendable () -> Void) {
        _ = installed
        actions.withLock { $0.append(action) }
    }

    static func runAll() {
        for a in actions.withLock({ $0 }) { a() }
    }
}
