import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Measures how long a program takes from launch until its terminal output contains a marker,
/// running it on a fresh pseudo-terminal of 80×24 (as the till runs on a console).
enum ReadyTimer {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func measure(
        _ path: String, _ arguments: [String], environment: [String: String], marker: String, timeout: Double = 10
    ) throws -> UInt64 {
        // posix_openpt/grantpt/unlockpt/ptsname are hidden from Swift by glibc's feature macros;
        // on Linux they are /dev/ptmx plus two ioctls (values from <asm-generic/ioctls.h>).
        let tiocgptn: UInt = 0x8004_5430, tiocsptlck: UInt = 0x4004_5431
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        var number: UInt32 = 0, unlock: Int32 = 0
        guard master >= 0, ioctl(master, tiocsptlck, &unlock) == 0, ioctl(master, tiocgptn, &number) == 0 else {
            throw Failure(description: "cannot open a pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        defer { close(master) }
        var size = winsize(ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        let slavePath = "/dev/pts/\(number)"

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in Int32(0)...2 {
            posix_spawn_file_actions_addopen(&actions, fd, slavePath, fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        posix_spawn_file_actions_addclose(&actions, master)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }

        let start = DispatchTime.now().uptimeNanoseconds
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard rc == 0 else { throw Failure(description: "cannot start \(path): \(String(cString: strerror(rc)))") }
        defer {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }

        let wanted = Array(marker.utf8)
        var seen: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = start + UInt64(timeout * 1e9)
        while DispatchTime.now().uptimeNanoseconds < deadline {
            var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 50) > 0 else { continue }
            let n = read(master, &buffer, buffer.count)
            if n <= 0 { break }
            seen += buffer[0..<n]
            if contains(seen, wanted) { return DispatchTime.now().uptimeNanoseconds - start }
        }
        let text = String(decoding: seen, as: UTF8.self)
        throw Failure(description: "\(path) did not show '\(marker)' within \(timeout) s; it printed: \(text.suffix(400))")
    }

    private static func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        guard hay.count >= needle.count else { return false }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] {
            if Array(hay[i..<(i + needle.count)]) == needle { return true }
        }
        return false
    }
}
