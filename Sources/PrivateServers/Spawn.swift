import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program with `posix_spawn` and `waitpid`, output captured through files.
///
/// Foundation's `Process` is not used for programs that daemonize (tmux starts its server from
/// the first client): the server inherits the client's descriptors, so a pipe never reaches
/// end-of-file, and the client was seen left unreaped.
public func spawnAndWait(
    _ path: String, _ arguments: [String], environment: [String: String]
) throws -> (status: Int32, stdout: String, stderr: String) {
    let base = FileManager.default.temporaryDirectory.path + "/spawn-\(UUID().uuidString)"
    defer {
        unlink(base + ".out")
        unlink(base + ".err")
    }
    let pid = try spawn(path, arguments, environment: environment, stdout: base + ".out", stderr: base + ".err")
    let code = waitForExit(pid)
    let out = FileManager.default.contents(atPath: base + ".out") ?? Data()
    let err = FileManager.default.contents(atPath: base + ".err") ?? Data()
    return (code, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
}

/// Waits for a child to end; returns its exit status, or 128 + the signal that ended it.
public func waitForExit(_ pid: Int32) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

public struct SpawnError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}

/// Starts a program in the background (output discarded, no signals blocked); returns its pid.
public func spawnBackground(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Int32 {
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { $1 }
    return try spawn(path, arguments, environment: env, stdout: "/dev/null", stderr: "/dev/null")
}

public func spawn(_ path: String, _ arguments: [String], environment: [String: String], stdout: String, stderr: String) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

    // Start with no blocked signals and default handlers: posix_spawn copies the calling
    // thread's mask, and test-runner threads block most signals (SIGWINCH among them).
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attr, &empty)
    var defaults = sigset_t()
    sigfillset(&defaults)
    sigdelset(&defaults, SIGKILL)
    sigdelset(&defaults, SIGSTOP)
    posix_spawnattr_setsigdefault(&attr, &defaults)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, &attr, argv, envp)
    guard rc == 0 else {
        throw SpawnError(message: "cannot start \(path): \(String(cString: strerror(rc)))")
    }
    return pid
}
