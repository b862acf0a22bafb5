import Metrics

/// What the cache did, as swift-metrics counters (exported at `/metrics` in the Prometheus text format).
struct EdgeMetrics: Sendable {
    /// How a response was answered, by its `X-Cache` value.
    enum Outcome: String, Sendable, CaseIterable {
        case hit = "HIT", miss = "MISS", coalesced = "COALESCED", stale = "STALE"
    }

    private let responses: [Outcome: Counter]
    let viewerFills = Counter(label: "edgenode_cache_fills_total", dimensions: [("priority", "viewer")])
    let backgroundFills = Counter(label: "edgenode_cache_fills_total", dimensions: [("priority", "background")])
    let failedFills = Counter(label: "edgenode_cache_fill_failures_total")
    /// Writes into the cache that failed on this node's own disk (full, read-only, I/O error): never a parent's fault.
    let cacheWriteFailures = Counter(label: "edgenode_cache_write_failures_total")
    /// Times the file system filled up before the byte budget did and objects were evicted to make room.
    let diskFullEvictions = Counter(label: "edgenode_cache_disk_full_evictions_total")
    /// Responses streamed from a parent without caching because the cache disk stayed full after evicting.
    let uncachedResponses = Counter(label: "edgenode_cache_uncached_responses_total")
    let committedObjects = Counter(label: "edgenode_cache_objects_committed_total")
    let evictedObjects = Counter(label: "edgenode_cache_objects_evicted_total")
    let upstreamErrors = Counter(label: "edgenode_cache_upstream_error_responses_total")

    /// Per parent of the start's configuration, made once: they are counted on every read of a fill.
    private let filledBytes: [String: Counter]
    private let objectRequests: [String: Counter]
    private let manifestRequests: [String: Counter]

    init(parents: [String]) {
        var responses: [Outcome: Counter] = [:]
        for outcome in Outcome.allCases {
            responses[outcome] = Counter(label: "edgenode_cache_responses_total", dimensions: [("x_cache", outcome.rawValue)])
        }
        self.responses = responses
        func perParent(_ make: (String) -> Counter) -> [String: Counter] {
            Dictionary(parents.map { ($0, make($0)) }, uniquingKeysWith: { first, _ in first })
        }
        filledBytes = perParent { Counter(label: "edgenode_cache_fill_bytes_total", dimensions: [("parent", $0)]) }
        objectRequests = perParent { Counter(label: "edgenode_upstream_requests_total", dimensions: [("parent", $0), ("kind", "object")]) }
        manifestRequests = perParent { Counter(label: "edgenode_upstream_requests_total", dimensions: [("parent", $0), ("kind", "manifest")]) }
    }

    func responded(_ outcome: Outcome) { responses[outcome]!.increment() }

    func filled(bytes: Int, from parent: String) {
        (filledBytes[parent] ?? Counter(label: "edgenode_cache_fill_bytes_total", dimensions: [("parent", parent)])).increment(by: bytes)
    }

    /// An upstream request for an object or a manifest.
    enum RequestKind { case object, manifest }

    func requested(from parent: String, kind: RequestKind) {
        // A parent added by a reload has no counter made at start.
        ((kind == .object ? objectRequests : manifestRequests)[parent]
            ?? Counter(label: "edgenode_upstream_requests_total", dimensions: [("parent", parent), ("kind", kind == .object ? "object" : "manifest")]))
            .increment()
    }

    /// A parent failed: `reason` is mismatch, truncated, overrun, timeout, status, signature or error.
    func parentFailed(_ parent: String, reason: String) {
        Counter(label: "edgenode_parent_failures_total", dimensions: [("parent", parent), ("reason", reason)]).increment()
        Counter(label: "edgenode_parent_fetches_total", dimensions: [("parent", parent), ("outcome", reason)]).increment()
    }

    /// A fetch from a parent ended without failing it: `ok` (verified) or `not_held` (a mesh peer without the object).
    func parentFetched(_ parent: String, outcome: String) {
        Counter(label: "edgenode_parent_fetches_total", dimensions: [("parent", parent), ("outcome", outcome)]).increment()
    }
}
