import Foundation
import PrivateServers

/// A real, private cupsd on a unix socket, with a `capture` backend that writes each job's bytes
/// to a file (after ../shared/recipes/cups). Stopped when released. Needs root (the backend runs
/// as root) and the cups-daemon and cups-client packages.
public final class PrivateCUPS: @unchecked Sendable { // immutable after init, apart from stop()
    public let dir: TemporaryDirectory
    public let socket: String
    private var pid: Int32 = 0

    public init() throws {
        dir = TemporaryDirectory("cups")
        let d = dir.path
        for sub in ["etc", "spool/tmp", "cache", "state", "log", "run", "capture", "serverbin/backend"] {
            try FileManager.default.createDirectory(atPath: d + "/" + sub, withIntermediateDirectories: true)
        }
        socket = d + "/run/cups.sock"
        try """
            ServerRoot \(d)/etc
            RequestRoot \(d)/spool
            TempDir \(d)/spool/tmp
            CacheDir \(d)/cache
            StateDir \(d)/state
            ServerBin \(d)/serverbin
            AccessLog \(d)/log/access_log
            ErrorLog \(d)/log/error_log
            PageLog \(d)/log/page_log
            User lp
            Group lp
            SystemGroup root

            """.write(toFile: d + "/etc/cups-files.conf", atomically: true, encoding: .utf8)
        try """
            LogLevel warn
            Listen \(socket)
            Browsing No
            BrowseLocalProtocols none
            WebInterface No
            DefaultAuthType None
            <Location />
              Order allow,deny
              Allow localhost
            </Location>
            <Policy default>
              JobPrivateAccess all
              JobPrivateValues none
              SubscriptionPrivateAccess all
              SubscriptionPrivateValues none
              <Limit All>
                Order deny,allow
              </Limit>
            </Policy>

            """.write(toFile: d + "/etc/cupsd.conf", atomically: true, encoding: .utf8)
        for sub in ["cgi-bin", "daemon", "driver", "filter", "monitor", "notifier"] {
            try? FileManager.default.createSymbolicLink(atPath: "\(d)/serverbin/\(sub)", withDestinationPath: "/usr/lib/cups/\(sub)")
        }
        for b in (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/cups/backend")) ?? [] {
            try? FileManager.default.createSymbolicLink(atPath: "\(d)/serverbin/backend/\(b)", withDestinationPath: "/usr/lib/cups/backend/\(b)")
        }
        let capture = "\(d)/serverbin/backend/capture"
        try """
            #!/bin/sh
            # capture:/abs/path -> job bytes written unchanged to /abs/path (atomically)
            [ $# -eq 0 ] && { echo 'direct capture "Unknown" "Capture job bytes to a file"'; exit 0; }
            out=${DEVICE_URI#*:}; out=/${out#"${out%%[!/]*}"}
            date +%s.%N >> "$out.started"   # when cupsd handed the job to the device
            tmp="$out.job$1.tmp"
            if [ -n "${6:-}" ]; then cat -- "$6" > "$tmp"; else cat > "$tmp"; fi || exit 1
            chmod 0644 "$tmp" && mv -f -- "$tmp" "$out" || exit 1
            exit 0

            """.write(toFile: capture, atomically: true, encoding: .utf8)
        chmod(capture, 0o700)
        try start()
    }

    /// Starts cupsd and waits until it answers.
    public func start() throws {
        let r = try spawnBackground("/usr/sbin/cupsd", ["-f", "-c", dir.path + "/etc/cupsd.conf", "-s", dir.path + "/etc/cups-files.conf"])
        pid = r
        for _ in 0..<200 {
            if let out = try? spawnAndWait("/usr/bin/lpstat", ["-r"], environment: env), out.stdout.contains("scheduler is running") { return }
            usleep(50_000)
        }
        throw SpawnError(message: "cupsd did not start; its log: \((try? String(contentsOfFile: dir.path + "/log/error_log", encoding: .utf8)) ?? "")")
    }

    /// Stops cupsd (kill and wait).
    public func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        _ = waitForExit(pid) // retried on EINTR: a signal must not leave cupsd running
        pid = 0
    }

    deinit { stop() }

    public var env: [String: String] { ["CUPS_SERVER": socket, "PATH": "/usr/sbin:/usr/bin:/bin"] }

    /// Creates a raw queue whose jobs land in `capture/<name>.bin`.
    @discardableResult
    public func addRawQueue(_ name: String) throws -> String {
        let out = capturePath(name)
        try admin("/usr/sbin/lpadmin", ["-p", name, "-v", "capture:" + out, "-o", "printer-error-policy=abort-job", "-E"])
        return out
    }

    public func capturePath(_ name: String) -> String { dir.path + "/capture/\(name).bin" }

    /// Runs a CUPS admin command (cupsreject, cupsdisable…) against this server.
    public func admin(_ tool: String, _ args: [String]) throws {
        let r = try spawnAndWait(tool, args, environment: env)
        guard r.status == 0 else { throw SpawnError(message: "\(tool) \(args.joined(separator: " ")) failed: \(r.stderr)") }
    }
}
