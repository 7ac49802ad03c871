import Prometheus
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

    /// A metric's whole name (its unit already in it) and help text.
    static func named(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        batches = registry.makeCounter(descriptor: Self.named("headoffice_ingest_batches_total", "Batches ingested."))
        let documents = "Documents ingested, by result."
        accepted = registry.makeCounter(descriptor: Self.named("headoffice_documents_total", documents), labels: [("result", "accepted")])
        duplicates = registry.makeCounter(descriptor: Self.named("headoffice_documents_total", documents), labels: [("result", "duplicate")])
        rejected = registry.makeCounter(descriptor: Self.named("headoffice_documents_total", documents), labels: [("result", "rejected")])
        ingestSeconds = registry.makeValueHistogram(descriptor: Self.named("headoffice_ingest_seconds", "Time to apply a batch."), buckets: Self.bounds)
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
        registry.makeCounter(descriptor: Self.named("headoffice_requests_refused_total", "Requests refused, by HTTP status."), labels: [("status", String(status))])
            .increment()
    }

    /// The registry as Prometheus's text format, each till's gauges set as of now (a revoked till's
    /// missing sales are no longer reported).
    func render(_ tills: [TillSummary]) -> String {
        for t in tills {
            let labels = [("store", t.till.storeID), ("till", t.till.tillID)]
            if let lag = t.lastLagMilliseconds {
                registry.makeGauge(descriptor: Self.named("headoffice_till_lag_seconds", "Time from a till completing its last sale to head office receiving it."),
                                   labels: labels).set(Double(lag) / 1000)
            }
            let missing = registry.makeGauge(descriptor: Self.named("headoffice_till_missing_sales", "Sequence numbers below a till's highest that head office has not received."),
                                             labels: labels)
            if t.revokedAt == nil { missing.set(Double(max(0, t.maxSequence - t.contiguousThrough))) } else { registry.unregisterGauge(missing) }
        }
        return registry.emitToString()
    }
}
