/// One bad row of an import: its line number in the file and what is wrong with it.
public struct ImportIssue: Error, Equatable, Sendable {
    public var line: Int
    public var message: String
    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }
}
