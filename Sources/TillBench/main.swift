import ArgumentParser

/// `till-bench SCENARIO`: measures the till in a release build; prints a table, then one JSON line.
struct TillBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "till-bench",
        abstract: "Benchmarks of the till (build with -c release). Each prints a table and one JSON line.",
        subcommands: [BasketScenario.self, ReceiptScenario.self, LoyaltyScenario.self, IngestScenario.self, DrainScenario.self, CRMScenario.self, ReportsScenario.self,
                      BroadcastScenario.self, CampaignsScenario.self, EngagementScenario.self, FraudScenario.self])
}

let signalSources = StopOnSignals.install()
TillBench.main()
