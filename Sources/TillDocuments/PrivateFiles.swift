import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Database files hold customers' personal data and PIN hashes: only their owner may read them.
public enum PrivateFiles {
    /// Makes `path` (an SQLite database) and its `-wal` and `-shm` files mode 0600, creating the
    /// database file empty with that mode if it does not exist yet (SQLite then gives its journal
    /// files the database's mode).
    public static func prepareDatabase(_ path: String) {
        if !FileManager.default.fileExists(atPath: path) {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 { close(fd) }
        }
        for p in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: p) {
            chmod(p, 0o600)
        }
    }
}
