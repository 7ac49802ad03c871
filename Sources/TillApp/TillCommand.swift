public import ArgumentParser
import Foundation
import TillCore
import TillStore
import TillUI

/// `till`: the till and its administration subcommands.
public struct TillCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "till",
        abstract: "A keyboard-driven point-of-sale till for Linux terminals.",
        discussion: """
            With no subcommand, starts the till in this terminal. Configuration comes from --config FILE, \
            else $TILL_CONFIG, else ./till.toml, else embedded defaults (see `till config example`).
            """,
        version: TillVersion.current,
        subcommands: [Run.self, Demo.self, Import.self, Export.self, Receipt.self, PrintTest.self, PrintQueue.self, Readers.self, ScaleCommand.self, Sync.self, Audit.self, Report.self, Doctor.self, ConfigCommand.self, Unlock.self],
        defaultSubcommand: Run.self
    )

    public init() {}
}

public enum TillVersion {
    public static let current = "0.1.0"
}

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Configuration file (TOML).", valueName: "file"))
    var config: String?

    /// Loads the configuration, or exits with its message.
    func loadConfig() throws -> TillConfig {
        do { return try TillConfig.load(path: config) } catch {
            throw CLIError(error.description)
        }
    }
}

/// A failure reported to the user as one clear message on stderr, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

extension TillConfig {
    /// Opens this till's database, or fails with a message that says what to do.
    func openDatabase() throws -> TillDatabase {
        do { return try TillDatabase(path: databasePath) } catch { throw CLIError(error.description) }
    }
}

/// Prints to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
