import Foundation
import Testing
import TillCore

@Suite("Points: their own type, plain integers on the wire")
struct PointsTests {
    @Test func pointsAreWrittenAndReadAsPlainIntegers() throws {
        let data = try JSONEncoder().encode([Points(1_500), -Points(20)])
        #expect(String(decoding: data, as: UTF8.self) == "[1500,-20]")
        #expect(try JSONDecoder().decode([Points].self, from: Data("[0,9999999999999]".utf8)) == [0, Points.maximum])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Points.self, from: Data("1.5".utf8)) }
        // A programme file reads as it did when its points were Int64.
        #expect(testProgramme.welcomeBonus == 100 && testProgramme.redemption.minimumPoints.count == 100)
    }

    @Test func checkedArithmeticSaysWhenASumDoesNotFit() {
        #expect(Points(Int64.max).adding(1) == nil)
        #expect(Points(Int64.min).subtracting(1) == nil)
        #expect(Points(Int64.max / 2 + 1).multiplied(by: 2) == nil)
        #expect(Points(40).adding(2) == 42 && Points(40).subtracting(50) == -10 && Points(7).multiplied(by: 6) == 42)
        #expect([Points(1), 2, 3].sum() == 6 && [Points]().sum() == .zero)
        #expect(Points(3) < 4 && max(Points(3), -Points(9)) == 3)
        #expect("\(Points(-12))" == "-12")
    }

    /// The point of the type: the compiler refuses points where money is meant and money where
    /// points are. Each snippet is type-checked against the TillCore module this test was built with.
    @Test func theCompilerRefusesPointsAndMoneyMixed() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
        let modules = root.appendingPathComponent(".build/debug/Modules").path
        try #require(FileManager.default.fileExists(atPath: modules + "/TillCore.swiftmodule"), "no TillCore module at \(modules)")
        func typecheck(_ body: String) throws -> String? {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("points-\(UUID().uuidString).swift")
            try ("import TillCore\n" + body + "\n").write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["swiftc", "-typecheck", "-I", modules, file.path]
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return p.terminationStatus == 0 ? nil : text
        }
        // The same module and set-up accept points with points and money with money.
        #expect(try typecheck("let a: Points = 5 + Points(3); let b: Int64 = 199 + 1; let t = Tender(kind: .points, amount: b, points: a); _ = t") == nil)
        let refused = [
            "let balance: Points = 100; let amount: Int64 = 250; _ = balance + amount",
            "let balance: Points = 100; _ = Tender(kind: .cash, amount: balance)",
            "let amount: Int64 = 250; _ = Tender(kind: .points, amount: amount, points: amount)",
            "let amount: Int64 = 250; _ = PointsAward.Part(rule: \"base\", label: \"x\", points: amount)",
        ]
        for snippet in refused {
            let errors = try typecheck(snippet)
            #expect(errors?.contains("error:") == true, "the compiler accepted: \(snippet)")
        }
    }
}
