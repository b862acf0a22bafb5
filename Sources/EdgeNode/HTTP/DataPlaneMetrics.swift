import Metrics

/// The data plane's request metrics: requests by route kind and status class, body bytes, and the time to the first
/// byte and to the last for each way of answering. Every series is made once, at start.
final class DataPlaneMetrics: Sendable {
    private let requests: [[Counter]]
    private let bytes = Counter(label: "edgenode_http_response_bytes_total")
    private let firstByte: [Timer]
    private let total: [Timer]
    private static let classes = ["1xx", "2xx", "3xx", "4xx", "5xx"]

    init() {
        requests = ResponseRecord.Kind.allCases.map { kind in
            Self.classes.map { Counter(label: "edgenode_http_requests_total", dimensions: [("kind", kind.rawValue), ("status", $0)]) }
        }
        firstByte = ResponseRecord.Answer.allCases.map { Timer(label: "edgenode_http_first_byte_seconds", dimensions: [("answer", $0.rawValue)]) }
        total = ResponseRecord.Answer.allCases.map { Timer(label: "edgenode_http_response_seconds", dimensions: [("answer", $0.rawValue)]) }
    }

    /// A response whose last byte was written at `finished` (uptime ns).
    func record(_ response: ResponseRecord, finished: UInt64) {
        let statusClass = min(max(response.status / 100, 1), 5) - 1
        requests[Self.index(of: response.kind)][statusClass].increment()
        if response.bytes > 0 { bytes.increment(by: Int64(clamping: response.bytes)) }
        let answer = Self.index(of: response.answer)
        if response.firstByte >= response.started {
            firstByte[answer].recordNanoseconds(Int64(clamping: response.firstByte - response.started))
        }
        if finished >= response.started { total[answer].recordNanoseconds(Int64(clamping: finished - response.started)) }
    }

    /// A case's position in `allCases`, by a switch rather than a search of an array on every response.
    private static func index(of kind: ResponseRecord.Kind) -> Int {
        switch kind {
        case .playlist: 0
        case .segment: 1
        case .manifest: 2
        case .endpoint: 3
        case .other: 4
        }
    }

    private static func index(of answer: ResponseRecord.Answer) -> Int {
        switch answer {
        case .hit: 0
        case .stale: 1
        case .miss: 2
        case .coalesced: 3
        case .local: 4
        case .redirect: 5
        case .endpoint: 6
        case .refused: 7
        }
    }
}
