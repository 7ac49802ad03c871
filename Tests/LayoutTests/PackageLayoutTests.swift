import Foundation
import Testing

/// One target of Package.swift as the manifest declares it.
struct DeclaredTarget: Equatable {
    enum Kind: String { case target, executableTarget, testTarget, systemLibrary }
    var kind: Kind
    var name: String
    /// The directory its sources are in, relative to the package root.
    var directory: String
    /// Target names and product names it depends on, as written.
    var dependencies: Set<String>
}

/// Reads the manifest's text: every `.target(`, `.executableTarget(`, `.testTarget(` and
/// `.systemLibrary(` call, its name, path and dependencies. (Not `swift package dump-package`:
/// that waits for the `.build` lock the running `swift test` holds.)
enum Manifest {
    static func targets(_ text: String) throws -> [DeclaredTarget] {
        var out: [DeclaredTarget] = []
        for match in text.matches(of: #/\.(target|executableTarget|testTarget|systemLibrary)\(/#) {
            let kind = DeclaredTarget.Kind(rawValue: String(match.output.1))!
            let body = String(try balanced(text, from: match.range.upperBound, open: "(", close: ")"))
            guard let name = body.firstMatch(of: #/name:\s*"([^"]+)"/#)?.output.1 else {
                throw ManifestError(message: "a .\(kind)( call without a name: \(body.prefix(80))")
            }
            let path = body.firstMatch(of: #/path:\s*"([^"]+)"/#)?.output.1
            var dependencies: Set<String> = []
            if let list = body.firstMatch(of: #/dependencies:\s*\[/#) {
                let items = String(try balanced(body, from: list.range.upperBound, open: "[", close: "]"))
                for item in items.matches(of: #/\.product\(name:\s*"([^"]+)",\s*package:\s*"[^"]+"\)|"([^"]+)"/#) {
                    dependencies.insert(String(item.output.1 ?? item.output.2 ?? ""))
                }
            }
            let directory = path.map(String.init) ?? (kind == .testTarget ? "Tests/\(name)" : "Sources/\(name)")
            out.append(DeclaredTarget(kind: kind, name: String(name), directory: directory, dependencies: dependencies))
        }
        return out
    }

    /// The text from `start` up to the bracket that closes the one just before it.
    static func balanced(_ text: String, from start: String.Index, open: Character, close: Character) throws -> Substring {
        var depth = 1
        var i = start
        var inString = false
        while i < text.endIndex {
            let c = text[i]
            if c == "\"" { inString.toggle() }
            if !inString {
                if c == open { depth += 1 }
                if c == close {
                    depth -= 1
                    if depth == 0 { return text[start..<i] }
                }
            }
            i = text.index(after: i)
        }
        throw ManifestError(message: "an unclosed '\(open)' in Package.swift")
    }
}

struct ManifestError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// One row of README's "Where things are" table.
struct LayoutRow {
    var modules: [String]
    var directory: String
    var owns: String
    var mayImport: Set<String>
}

enum WhereThingsAre {
    /// The table under README's "## Where things are" heading.
    static func rows(_ readme: String) throws -> [LayoutRow] {
        guard let heading = readme.range(of: "\n## Where things are\n") else {
            throw ManifestError(message: "README.md has no '## Where things are' section")
        }
        let section = readme[heading.upperBound...]
        let end = section.range(of: "\n## ")?.lowerBound ?? section.endIndex
        var rows: [LayoutRow] = []
        for line in section[..<end].split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 6 else { throw ManifestError(message: "a row without 4 cells: \(line)") }
            rows.append(LayoutRow(
                modules: names(cells[1]), directory: cells[2], owns: cells[3], mayImport: Set(names(cells[4]))))
        }
        return rows
    }

    /// The names in backticks in a cell.
    static func names(_ cell: String) -> [String] {
        cell.matches(of: #/`([^`]+)`/#).map { String($0.output.1) }
    }
}

@Suite("The package's layout: README's 'Where things are' table and what each module may import")
struct PackageLayoutTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    let targets: [DeclaredTarget]
    let byName: [String: DeclaredTarget]

    init() throws {
        targets = try Manifest.targets(try String(contentsOfFile: Self.root + "/Package.swift", encoding: .utf8))
        byName = Dictionary(uniqueKeysWithValues: targets.map { ($0.name, $0) })
    }

    /// Everything `name` builds on, directly or through others (targets only; products are leaves).
    func closure(of name: String) -> Set<String> {
        var seen: Set<String> = []
        var queue = Array(byName[name]?.dependencies ?? [])
        while let next = queue.popLast() {
            guard seen.insert(next).inserted else { continue }
            queue += byName[next]?.dependencies ?? []
        }
        return seen
    }

    @Test func theManifestReaderFindsEveryTargetWithItsDependencies() {
        // A check of the reader itself, on targets whose declarations are known.
        #expect(targets.count >= 30)
        #expect(byName["TillCore"]?.dependencies == [])
        #expect(byName["Receipts"]?.directory == "Receipts")
        #expect(byName["Receipts"]?.dependencies == ["TillCore", "ESCPOS"])
        #expect(byName["TillStore"]?.dependencies.contains("GRDBSQLite") == true)
        #expect(byName["CCups"]?.kind == .systemLibrary)
        #expect(byName["TillCoreTests"]?.directory == "Tests/TillCoreTests")
    }

    @Test func everyModuleHasOneRowThatSaysExactlyWhatItMayImport() throws {
        let readme = try String(contentsOfFile: Self.root + "/README.md", encoding: .utf8)
        let rows = try WhereThingsAre.rows(readme)
        var listed: [String: Int] = [:]
        for row in rows {
            for module in row.modules {
                listed[module, default: 0] += 1
                guard let target = byName[module] else {
                    Issue.record("README's 'Where things are' lists `\(module)`, which Package.swift does not declare")
                    continue
                }
                #expect(row.mayImport == target.dependencies,
                        "`\(module)`: README says it may import \(row.mayImport.sorted()), Package.swift gives it \(target.dependencies.sorted())")
                // "Drivers/…" stands for several directories under Drivers/.
                let same = row.directory.hasSuffix("…") ? target.directory.hasPrefix(row.directory.dropLast()) : row.directory == target.directory
                #expect(same, "`\(module)`: README says \(row.directory), Package.swift \(target.directory)")
                #expect(!row.owns.isEmpty, "`\(module)`: say what it owns")
            }
        }
        for target in targets where target.kind != .testTarget {
            #expect(listed[target.name] == 1, "`\(target.name)` is in README's 'Where things are' \(listed[target.name] ?? 0) times; once, please")
        }
    }

    @Test func everySourceFileImportsOnlyWhatItsTargetDeclares() throws {
        // The toolchain's and the system's own modules, which no manifest declares.
        let system: Set<String> = ["Foundation", "FoundationEssentials", "FoundationNetworking", "Glibc", "Musl", "Darwin", "Dispatch",
                                   "Synchronization", "_Concurrency", "Testing", "XCTest", "RegexBuilder"]
        let fm = FileManager.default
        var checked = 0
        for target in targets where target.kind != .systemLibrary {
            let dir = Self.root + "/" + target.directory
            guard let files = fm.enumerator(atPath: dir) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOfFile: dir + "/" + file, encoding: .utf8)
                for line in text.split(separator: "\n") where line.contains("import ") {
                    guard let m = line.firstMatch(of: #/^(?:@testable |@_exported |public |package |internal |@preconcurrency )*import (?:(?:struct|class|enum|protocol|func|var|let|typealias) )?(\w+)/#)
                    else { continue }
                    let module = String(m.output.1)
                    checked += 1
                    #expect(module == target.name || system.contains(module) || target.dependencies.contains(module),
                            "\(target.directory)/\(file) imports \(module), which \(target.name) does not declare in Package.swift")
                }
            }
        }
        #expect(checked > 300)
    }

    @Test func noSourceFileIsOverFiveHundredLines() throws {
        // A file that grows past this is holding more than one thing: split it by what it does.
        let fm = FileManager.default
        var read = 0
        for target in targets where target.kind != .testTarget && target.kind != .systemLibrary {
            let dir = Self.root + "/" + target.directory
            guard let files = fm.enumerator(atPath: dir) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let lines = try String(contentsOfFile: dir + "/" + file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).count
                read += 1
                #expect(lines <= 500, "\(target.directory)/\(file) is \(lines) lines")
            }
        }
        #expect(read > 100)
    }

    @Test func headOfficesPagesHoldNoSQL() throws {
        // The back office's pages ask the store (HeadOfficeStore and its extensions) for what
        // they show; the SQL stays in the store layer, where both backends are tested.
        let dir = Self.root + "/Sources/HeadOffice/BackOffice"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".swift") }
        #expect(files.count >= 5)
        for file in files {
            let text = try String(contentsOfFile: dir + "/" + file, encoding: .utf8)
            let sql = text.firstMatch(of: #/(SELECT\s+\S+.*\sFROM\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s)/#)
            #expect(sql == nil, "BackOffice/\(file) has SQL: \(sql.map { String($0.output.0) } ?? "")")
        }
    }

    @Test func theLayersPointInward() {
        // The domain core and the wire types stand alone.
        #expect(byName["TillCore"]?.dependencies == [])
        #expect(byName["TillProtocol"]?.dependencies == [])
        // The screen knows the ports it needs, not the database or the network behind them.
        #expect(closure(of: "TillUI").isDisjoint(with: ["TillStore", "TillSync", "GRDB", "TillApp"]))
        // Head office shares documents with the till, not the till's database or screen.
        for headOffice in ["HeadOffice", "HeadOfficeServer"] {
            #expect(closure(of: headOffice).isDisjoint(with: ["TillStore", "TillUI", "TillApp", "TillSync"]),
                    "\(headOffice) builds on \(closure(of: headOffice).intersection(["TillStore", "TillUI", "TillApp", "TillSync"]).sorted())")
        }
        // Drivers know nothing of sales.
        for driver in targets where driver.directory.hasPrefix("Drivers/") {
            #expect(closure(of: driver.name).allSatisfy { byName[$0]?.directory.hasPrefix("Drivers/") ?? true },
                    "\(driver.name) builds on \(closure(of: driver.name).sorted())")
        }
        // What ships never builds on the tests' support.
        for shipped in targets where shipped.kind != .testTarget && shipped.name != "TillTestSupport" {
            #expect(!closure(of: shipped.name).contains("TillTestSupport"), "\(shipped.name) builds on TillTestSupport")
        }
    }
}
