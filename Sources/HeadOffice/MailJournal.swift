import Foundation

/// The members whose campaign e-mail's end went to the relay and whose "sent" head office has not
/// recorded yet: one line each ("campaign TAB member", percent-escaped), appended by the thread
/// that sends the end, just before it. Emptied once a round's outcomes are in the database; a
/// sender that stopped between the two leaves its lines for `settleMailJournal`.
///
/// A line is one `write` to a file opened for appending: it survives the process being killed
/// (the kernel has it), not a power cut in the milliseconds before the round's commit (its
/// members, at most one a connection, would then be sent to again). One process at a time holds
/// it (an exclusive lock).
public final class MailJournal: @unchecked Sendable {
    public let path: String
    private let fd: Int32
    /// Larger than this, the file is not one head office wrote (a round writes a line a connection).
    static let largest = 16 << 20

    public init(path: String) throws(MailFailure) {
        self.path = path
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw MailFailure(description: "Cannot open the campaign mail journal \(path): \(String(cString: strerror(errno))); "
                              + "set [mail] journal in headoffice.toml to a file head office may write")
        }
        // One sender a journal: a second head office given the same file would empty the
        // first's lines before their members are recorded.
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw MailFailure(description: "Another head office sends campaign e-mails with the mail journal \(path): "
                              + "give each its own [mail] journal in headoffice.toml")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    static let plain = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~-")

    /// Appends one member; nil once written, else why not (the message then goes without its end).
    func record(campaign: String, member: String) -> String? {
        guard let c = campaign.addingPercentEncoding(withAllowedCharacters: Self.plain),
              let m = member.addingPercentEncoding(withAllowedCharacters: Self.plain) else { return "the member's ID cannot be written to the mail journal" }
        let line = Array((c + "\t" + m + "\n").utf8)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written == line.count { return nil }
        return "the mail journal \(path) could not be written: " + (written < 0 ? String(cString: strerror(errno)) : "only \(written) of \(line.count) bytes")
    }

    /// The members written and not yet cleared, in the order written (a torn last line left out).
    public func entries() throws(MailFailure) -> [(campaign: String, member: String)] {
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else { throw MailFailure(description: "Cannot read the mail journal \(path): \(String(cString: strerror(errno)))") }
        let size = Int(end)
        guard size <= Self.largest else {
            throw MailFailure(description: "The mail journal \(path) holds \(size) bytes, more than head office ever writes to it: move it away and start again")
        }
        guard size > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: size)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size, 0) }
        guard n == size else { throw MailFailure(description: "Cannot read the mail journal \(path): \(n < 0 ? String(cString: strerror(errno)) : "it changed as it was read")") }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).dropLast(bytes.last == 0x0A ? 0 : 1).compactMap { line in
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard parts.count == 2, let c = String(parts[0]).removingPercentEncoding, let m = String(parts[1]).removingPercentEncoding,
                  !c.isEmpty, !m.isEmpty else { return nil }
            return (c, m)
        }
    }

    /// Empties the journal (its members' outcomes are in the database).
    public func clear() throws(MailFailure) {
        guard ftruncate(fd, 0) == 0 else { throw MailFailure(description: "Cannot empty the mail journal \(path): \(String(cString: strerror(errno)))") }
    }
}
