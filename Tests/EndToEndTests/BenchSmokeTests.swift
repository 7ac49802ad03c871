import Foundation
import Testing
import TillTestSupport

/// `till-bench` keeps working: each scenario runs small and prints its JSON line. Speed is
/// measured by the release build, not here.
@Suite("till-bench smoke")
struct BenchSmokeTests {
    @Test func basketPrintsItsJSONLine() throws {
        let r = try runProcess(PackagePaths.binary("till-bench"), ["basket", "--items", "2000", "--sales", "3", "--starts", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let last = try #require(r.stdout.split(separator: "\n").last)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(json["scenario"] as? String == "basket")
        for key in ["line_add_p99_us", "commit_p99_ms", "ready_ms"] {
            let v = try #require(json[key] as? Double, "missing \(key)")
            #expect(v > 0)
        }
    }

    @Test func receiptPrintsItsJSONLineWithThePythonComparison() throws {
        let r = try runProcess(PackagePaths.binary("till-bench"), ["receipt", "--iterations", "20", "--python-iterations", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        let last = try #require(r.stdout.split(separator: "\n").last)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(json["scenario"] as? String == "receipt")
        for key in ["receipt_us", "python_escpos_us", "ratio"] {
            let v = try #require(json[key] as? Double, "missing \(key)")
            #expect(v > 0, "\(key) not measured: \(r.stderr)")
        }
    }

    @Test func loyaltyPrintsItsJSONLine() throws {
        let r = try runProcess(PackagePaths.binary("till-bench"),
                               ["loyalty", "--cards", "2000", "--lookups", "50", "--baskets", "50", "--items", "2000"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("20 active rules"))
        let last = try #require(r.stdout.split(separator: "\n").last)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(json["scenario"] as? String == "loyalty")
        for key in ["card_lookup_p99_us", "points_p99_us"] {
            let v = try #require(json[key] as? Double, "missing \(key)")
            #expect(v > 0)
        }
    }

    @Test func ingestPrintsOneJSONLinePerBackend() throws {
        let r = try runProcess(PackagePaths.binary("till-bench"),
                               ["ingest", "--cards", "2000", "--items", "500", "--tills", "2", "--sales", "60", "--batch", "25"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(lines.count == 2)
        for (line, backend) in zip(lines, ["sqlite", "postgres"]) {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(json["scenario"] as? String == "ingest")
            #expect(json["backend"] as? String == backend)
            for key in ["sales_per_s", "sale_p99_ms", "raw_rows_per_s"] {
                let v = try #require(json[key] as? Double, "missing \(key)")
                #expect(v > 0)
            }
        }
        #expect(r.stdout.contains("120, each once"))
    }

    @Test func drainPrintsItsJSONLine() throws {
        let r = try runProcess(PackagePaths.binary("till-bench"), ["drain", "--sales", "300", "--cards", "2000", "--items", "500", "--batch", "20"])
        #expect(r.status == 0, "\(r.stderr)")
        let last = try #require(r.stdout.split(separator: "\n").last)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(json["scenario"] as? String == "drain")
        #expect(json["sales"] as? Int == 300)
        #expect((json["drain_s"] as? Double ?? 0) > 0)
        #expect(r.stdout.contains("300 accepted, 0 duplicates, 0 rejected"))
    }

    @Test func broadcastPrintsItsJSONLine() throws {
        let r = try runProcess(PackagePaths.binary("till-bench"), ["broadcast", "--tills", "50"])
        #expect(r.status == 0, "\(r.stderr)")
        let last = try #require(r.stdout.split(separator: "\n").last)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(json["scenario"] as? String == "broadcast")
        #expect(json["tills"] as? Int == 50)
        #expect((json["all_acked_s"] as? Double ?? 0) > 0)
        #expect(r.stdout.contains("failed requests                              0"))
    }

    @Test func reportsPrintsOneJSONLinePerBackend() throws {
        let r = try runProcess(PackagePaths.binary("till-bench"),
                               ["reports", "--members", "3000", "--history", "20000", "--orders", "3000", "--samples", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(lines.count == 2)
        for (line, backend) in zip(lines, ["sqlite", "postgres"]) {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(json["scenario"] as? String == "reports" && json["backend"] as? String == backend)
            for key in ["partner_baskets_s", "cashier_report_ms", "cashback_run_s"] { #expect(json[key] as? Double != nil, "missing \(key)") }
            #expect((json["cashback_cards"] as? Int ?? 0) > 0)
        }
        #expect(r.stdout.contains("roll-up: 23000 sales and orders"))
    }

    /// With `--backlog`, the history's sales are left for the reports' roll-up, which head office
    /// works through while the channel's redemptions are timed.
    @Test func crmPrintsItsJSONLineWithARollUpBacklog() throws {
        let r = try runProcess(PackagePaths.binary("till-bench"), ["crm", "--backends", "sqlite", "--members", "3000", "--sales", "400", "--buyers", "100",
                                                                   "--history", "20000", "--backlog", "20000", "--samples", "20", "--redemptions", "40", "--clients", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        let line = try #require(r.stdout.split(separator: "\n").last { $0.hasPrefix("{") })
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(json["scenario"] as? String == "crm" && json["backend"] as? String == "sqlite" && json["sales"] as? Int == 20_400)
        for key in ["search_p99_ms", "customer_page_p99_ms", "redeem_p99_ms", "first_batch_after_start_ms"] { #expect((json[key] as? Double ?? 0) > 0, "missing \(key)") }
        #expect((json["redeem_per_s"] as? Int ?? 0) > 0)
        #expect(json["redeem_offered_per_s"] as? Int == 500)
        // The 20,000 set aside, and the first batch's sale after a start.
        #expect(json["rollup_backlog"] as? Int == 20_001)
        #expect(r.stdout.contains("(0 refused)"))
    }

    /// The clients' options are bounded before anything is loaded: a thread each, a pace that fits.
    @Test func crmRefusesClientsAndRatesOutOfBounds() throws {
        for (arguments, message) in [(["--rate=-1"], "--rate -1: give 0"), (["--clients", "0"], "--clients 0: give 1 to 1000"),
                                     (["--redemptions", "0"], "--redemptions 0: give 1 to 10000000")] {
            let r = try runProcess(PackagePaths.binary("till-bench"), ["crm"] + arguments)
            #expect(r.status != 0 && r.stderr.contains(message), "\(arguments): \(r.stderr)")
        }
    }

    @Test func campaignsPrintsOneJSONLinePerBackend() throws {
        let r = try runProcess(PackagePaths.binary("till-bench"), ["campaigns", "--members", "3000", "--history", "20000", "--samples", "1", "--send-seconds", "2",
                                                                   "--python", PackagePaths.root + "/.venv-st/bin/python"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(lines.count == 2)
        for (line, backend) in zip(lines, ["sqlite", "postgres"]) {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(json["scenario"] as? String == "campaigns" && json["backend"] as? String == backend)
            for key in ["rfm_s", "segment_count_ms"] { #expect(json[key] as? Double != nil, "missing \(key)") }
            #expect((json["emails_per_s"] as? Int ?? 0) > 0)
        }
        #expect(r.stdout.contains("RFM: 3000 members scored"))
    }

    @Test func engagementPrintsItsJSONLine() throws {
        let r = try runProcess(PackagePaths.binary("till-bench"), ["engagement", "--baskets", "20000", "--items", "300"])
        #expect(r.status == 0, "\(r.stderr)")
        let line = try #require(r.stdout.split(separator: "\n").last { $0.hasPrefix("{") })
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(json["scenario"] as? String == "engagement" && json["baskets"] as? Int == 20_000)
        for key in ["mining_s", "hit_rate_at_3", "baseline_hit_rate_at_3"] { #expect(json[key] as? Double != nil, "missing \(key)") }
        #expect(json["planted_found"] as? Int == json["planted"] as? Int && (json["challenge_eval_us"] as? Double ?? 0) > 0)
    }

    /// Ctrl-C or SIGTERM stops a run and removes its scratch directory (head office's database);
    /// a run killed outright leaves its directory, which the next run removes, and the directory
    /// of a run still going is left alone.
    @Test func aStoppedRunRemovesItsScratchDirectory() throws {
        let tmp = TemporaryDirectory("bench-stop")
        let fm = FileManager.default
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let killed = tmp.file("till-bench-0DEAD000"), going = tmp.file("till-bench-0A11VE00")
        for (dir, pid) in [(killed, gone.processIdentifier), (going, getpid())] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try "\(pid)\n".write(toFile: dir + "/owner.pid", atomically: true, encoding: .utf8)
            try Data(count: 3 << 20).write(to: URL(fileURLWithPath: dir + "/headoffice.sqlite"))
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: PackagePaths.binary("till-bench"))
        p.arguments = ["ingest", "--backends", "sqlite", "--cards", "400000", "--tills", "2", "--sales", "2000"]
        p.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": tmp.path]) { $1 }
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        _ = fm.createFile(atPath: tmp.file("stderr"), contents: nil)
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: tmp.file("stderr")))
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        // Its own directory, once head office's database is in it.
        var own: String?
        let deadline = Date().addingTimeInterval(120)
        while own == nil && p.isRunning && Date() < deadline {
            own = try fm.contentsOfDirectory(atPath: tmp.path).map(tmp.file).first {
                $0 != killed && $0 != going && $0.contains("/till-bench-") && fm.fileExists(atPath: $0 + "/headoffice.sqlite")
            }
            if own == nil { usleep(50_000) }
        }
        let dir = try #require(own, "no scratch directory with head office's database: \((try? String(contentsOfFile: tmp.file("stderr"), encoding: .utf8)) ?? "")")
        #expect(!fm.fileExists(atPath: killed) && fm.fileExists(atPath: going))
        kill(p.processIdentifier, SIGTERM)
        let stopBy = Date().addingTimeInterval(15)
        while p.isRunning && Date() < stopBy { usleep(50_000) }
        #expect(!p.isRunning, "till-bench went on after SIGTERM")
        p.waitUntilExit()
        let stderr = try String(contentsOfFile: tmp.file("stderr"), encoding: .utf8)
        #expect(p.terminationStatus == 128 + SIGTERM, "\(stderr)")
        #expect(!fm.fileExists(atPath: dir))
        #expect(stderr.contains("removed 1 scratch directory of runs killed before they could (3 MB)"), "\(stderr)")
        #expect(stderr.contains("stopped by SIGTERM; 1 scratch directory removed"), "\(stderr)")
    }
}
