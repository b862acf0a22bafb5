import HTTPSemantics
import NIOHTTP1

/// One response as the data plane measures it, for the metrics and the access log: what was asked, how it was
/// answered, and when its head and its last byte were written.
struct ResponseRecord: Sendable {
    /// What kind of path was asked for.
    enum Kind: String, Sendable, CaseIterable {
        case playlist, segment, manifest, endpoint, other

        /// The kind of a request path (its query ignored).
        init(uri: String) {
            // Bytes, not characters: this runs for every request.
            let path = RequestPath.pathBytes(of: uri[...])
            func ends(_ suffix: StaticString) -> Bool { RequestPath.pathBytes(path, endWith: suffix) }
            if ends(".m3u8") {
                self = .playlist
            } else if ends("/manifest.json") {
                self = .manifest
            } else if ends(".ts") || ends(".m4s") || ends(".mp4") || ends(".aac") {
                self = .segment
            } else {
                self = .other
            }
        }
    }

    /// How the response was answered: from the cache (`hit`, `stale`), filled from a parent (`miss`, `coalesced`), from
    /// the origin's own files (`local`), by a redirect, by one of the node's endpoints, or refused (an error status
    /// without a file: malformed, not found, unavailable).
    enum Answer: String, Sendable, CaseIterable {
        case hit, stale, miss, coalesced, local, redirect, endpoint, refused

        init(_ outcome: EdgeMetrics.Outcome) {
            switch outcome {
            case .hit: self = .hit
            case .stale: self = .stale
            case .miss: self = .miss
            case .coalesced: self = .coalesced
            }
        }
    }

    /// Who asked and what, kept only when an access log is written.
    struct Request: Sendable {
        var client: String
        var method: String
        var uri: String
        var version: String
        var referer: String?
        var userAgent: String?
        /// Wall-clock time of the request's arrival, seconds since the Unix epoch.
        var time: Double
    }

    /// Uptime (ns) when the request arrived.
    var started: UInt64
    var kind: Kind
    var answer: Answer = .refused
    var status = 0
    /// Body bytes the response announced (sent in full unless the connection failed).
    var bytes: UInt64 = 0
    /// Uptime (ns) when the head was written (0: never).
    var firstByte: UInt64 = 0
    var request: Request?

    /// `X-Cache` of a caching node's answer, if any.
    var cacheStatus: String? {
        switch answer {
        case .hit: "HIT"
        case .stale: "STALE"
        case .miss: "MISS"
        case .coalesced: "COALESCED"
        default: nil
        }
    }
}
