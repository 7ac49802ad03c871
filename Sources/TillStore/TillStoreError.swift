public import TillDocuments
/// Why the till's database could not do what was asked. Messages name the file and say what
/// to do; they never include PINs or card numbers.
public enum TillStoreError: Error, CustomStringConvertible, Equatable {
    /// The database has migrations this build does not know: written by a newer till.
    case newerVersion(path: String, unknown: [String])
    /// The file exists but is not a SQLite database (or is damaged).
    case notADatabase(path: String, reason: String)
    case cannotOpen(path: String, reason: String)
    /// A statement failed; `context` says what the till was doing.
    case failed(context: String, reason: String)
    /// The catalog file had bad rows; nothing was imported.
    case importRejected(file: String, issues: [ImportIssue], totalIssues: Int)
    case cannotRead(path: String, reason: String)
    /// The data directory belongs to another till.
    case wrongTill(path: String, recorded: String, configured: String)
    case noSuchSuspendedSale(Int64)

    public var description: String {
        switch self {
        case .newerVersion(let path, let unknown):
            return "The till database \(path) was written by a newer version of till (it has \(unknown.joined(separator: ", ")), "
                + "which this version does not know). Install the newer till, or restore the data directory from a backup."
        case .notADatabase(let path, let reason):
            return "\(path) is not a till database (\(reason)). Restore it from a backup, or move it aside to start afresh."
        case .cannotOpen(let path, let reason):
            return "Cannot open the till database \(path): \(reason). Check the data_dir setting and its permissions."
        case .failed(let context, let reason):
            return "Could not \(context): \(reason)"
        case .importRejected(let file, let issues, let total):
            var lines = ["\(file): \(total) bad row\(total == 1 ? "" : "s"); nothing was imported. Fix them and import again:"]
            lines += issues.map { "  line \($0.line): \($0.message)" }
            if total > issues.count { lines.append("  … and \(total - issues.count) more") }
            return lines.joined(separator: "\n")
        case .cannotRead(let path, let reason):
            return "Cannot read \(path): \(reason)"
        case .wrongTill(let path, let recorded, let configured):
            return "The data directory \(path) belongs to till \(recorded), but the configuration says till \(configured). "
                + "Point data_dir at this till's own directory, or fix [till] id."
        case .noSuchSuspendedSale(let id):
            return "Suspended sale \(id) is no longer there: it may have been resumed already"
        }
    }
}
