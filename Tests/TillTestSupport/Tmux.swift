import Foundation
import PrivateServers

/// A real tmux server and session running a program in a pseudo-terminal: keys go in with
/// `send-keys`, the screen comes out with `capture-pane`. Each instance has its own server
/// socket, so tests can run side by side.
public final class Tmux: @unchecked Sendable { // immutable after init; tmux serialises commands itself
    public let socket: String
    public let session = "till"

    /// Starts `command` (a shell command line) in a `width`×`height` terminal.
    public init(command: String, width: Int = 100, height: Int = 30, environment: [String: String] = [:]) throws {
        socket = "till-test-\(UUID().uuidString.prefix(8))"
        let env = environment.map { "\($0.key)=\(Self.shellQuote($0.value))" }.joined(separator: " ")
        let line = env.isEmpty ? command : "env \(env) \(command)"
        try run(["-f", "/dev/null", "new-session", "-d", "-s", session, "-x", String(width), "-y", String(height), line])
        // Keep the pane after the program exits, so a crash's last screen can be read.
        try run(["set-option", "-t", session, "remain-on-exit", "on"])
    }

    deinit { _ = try? run(["kill-server"]) }

    /// Sends keys as tmux names them: literal text, or names such as Enter, Escape, F5, Up, C-q.
    public func send(_ keys: String...) throws {
        try run(["send-keys", "-t", session] + keys)
    }

    /// Sends text literally (no key-name lookup), e.g. a barcode, then optionally Enter.
    public func type(_ text: String, enter: Bool = false) throws {
        try run(["send-keys", "-t", session, "-l", text])
        if enter { try run(["send-keys", "-t", session, "Enter"]) }
    }

    /// The screen as text, one string per row.
    public func screen() throws -> String {
        try run(["capture-pane", "-p", "-J", "-t", session])
    }

    /// Waits until the screen contains `text`; returns the screen. Throws with the last screen
    /// after `timeout` seconds.
    @discardableResult
    public func waitFor(_ text: String, timeout: Double = 10) throws -> String {
        try waitUntil(timeout: timeout, "'\(text)'") { $0.contains(text) }
    }

    /// Waits until the screen shows every one of `texts` at once; returns the screen. A panel is
    /// read whole this way: on a loaded machine a capture can come mid-redraw, its title drawn
    /// and its lines not yet. Throws with the last screen after `timeout` seconds.
    @discardableResult
    public func waitForAll(_ texts: [String], timeout: Double = 10) throws -> String {
        try waitUntil(timeout: timeout, texts.map { "'\($0)'" }.joined(separator: " and ")) { screen in texts.allSatisfy { screen.contains($0) } }
    }

    @discardableResult
    public func waitUntil(timeout: Double = 10, _ what: String, _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if condition(last) { return last }
            usleep(20_000)
        }
        let pane = (try? run(["display-message", "-p", "-t", session,
                             "pane #{pane_width}x#{pane_height}, dead=#{pane_dead}, status=#{pane_dead_status}, signal=#{pane_dead_signal}"])) ?? "?"
        throw TmuxError(message: "timed out after \(timeout) s waiting for \(what) (\(pane.trimmingCharacters(in: .whitespacesAndNewlines))); the screen was:\n\(last)")
    }

    /// The pid of the program in the pane.
    public func panePID() throws -> Int32 {
        let out = try run(["display-message", "-p", "-t", session, "#{pane_pid}"])
        guard let pid = Int32(out.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TmuxError(message: "no pane pid in '\(out)'")
        }
        return pid
    }

    /// Whether the program in the pane has exited.
    public func paneDead() throws -> Bool {
        try run(["display-message", "-p", "-t", session, "#{pane_dead}"]).hasPrefix("1")
    }

    /// Starts the command again in the same pane (after it exited or was killed).
    public func respawn(_ command: String, environment: [String: String] = [:]) throws {
        let env = environment.map { "\($0.key)=\(Self.shellQuote($0.value))" }.joined(separator: " ")
        try run(["respawn-pane", "-k", "-t", session, env.isEmpty ? command : "env \(env) \(command)"])
    }

    public func resize(width: Int, height: Int) throws {
        try run(["resize-window", "-t", session, "-x", String(width), "-y", String(height)])
    }

    @discardableResult
    func run(_ args: [String]) throws -> String {
        let r = try spawnAndWait("/usr/bin/tmux", ["-L", socket] + args, environment: [
            "PATH": "/usr/bin:/bin", "TERM": "xterm-256color", "LANG": "C.UTF-8", "HOME": NSHomeDirectory(),
        ])
        guard r.status == 0 else {
            throw TmuxError(message: "tmux \(args.joined(separator: " ")) failed: \(r.stderr)")
        }
        return r.stdout
    }

    public static func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

public struct TmuxError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
