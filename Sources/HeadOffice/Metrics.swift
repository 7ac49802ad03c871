public import Prometheus
import TillProtocol

/// Head office's figures for `/metrics`, kept in a Prometheus registry (swift-prometheus): the
/// batches and documents ingested, the time a batch takes, the requests refused, and each till's
/// lag and missing sales (read at each scrape). `headoffice serve` also makes the registry the
/// process's swift-metrics backend, so Hummingbird's request figures (`hb_requests_total`,
/// `http_server_request_duration_seconds`, by method and route) come out in the same text.
final class Metrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let batches: Counter
    private let accepted: Counter
    private let duplicates: Counter
    private let rejected: Counter
    private let ingestSeconds: ValueHistogram
    static let bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        batches = registry.makeCounter(name: "headoffice_ingest_batches_total", help: "Batches ingested.")
        let documents = "Documents ingested, by result."
        accepted = registry.makeCounter(name: "headoffice_documents_total", labels: [("result", "accepted")], help: documents)
        duplicates = registry.makeCounter(name: "headoffice_documents_total", labels: [("result", "duplicate")], help: documents)
        rejected = registry.makeCounter(name: "headoffice_documents_total", labels: [("result", "rejected")], help: documents)
        ingestSeconds = registry.makeValueHistogram(name: "headoffice_ingest_seconds", buckets: Self.bounds, help: "Time to apply a batch.")
    }

    func batch(_ r: IngestResponse, seconds: Double) {
        batches.increment()
        for x in r.results {
            switch x.status {
            case .accepted: accepted.increment()
            case .duplicate: duplicates.increment()
            case .rejected: rejected.increment()
            }
        }
        ingestSeconds.record(seconds)
    }

    func refused(_ status: Int) {
        registry.makeCounter(name: "headoffice_requests_refused_total", labels: [("status", String(status))], help: "Requests refused, by HTTP status.")
            .increment()
    }

    /// The registry as Prometheus's text format, each till's gauges set as of now (a revoked till's
    /// missing sales are no longer reported).
    func render(_ tills: [TillSummary]) -> String {
        for t in tills {
            let labels = [("store", t.till.storeID), ("till", t.till.tillID)]
            if let lag = t.lastLagMilliseconds {
                registry.makeGauge(name: "headoffice_till_lag_seconds", labels: labels,
                                   help: "Time from a till completing its last sale to head office receiving it.").set(Double(lag) / 1000)
            }
            let missing = registry.makeGauge(name: "headoffice_till_missing_sales", labels: labels,
                                             help: "Sequence numbers below a till's highest that head office has not received.")
            if t.revokedAt == nil { missing.set(Double(max(0, t.maxSequence - t.contiguousThrough))) } else { registry.unregisterGauge(missing) }
        }
        return registry.emitToString()
    }
}
