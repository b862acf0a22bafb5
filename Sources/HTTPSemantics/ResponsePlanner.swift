/// The validators and metadata of a file to serve.
public struct Representation: Equatable, Sendable {
    public var length: UInt64
    /// Last modification, whole seconds since 1970.
    public var lastModified: Int64
    /// A strong entity tag.
    public var etag: EntityTag
    public var contentType: String
    public var cacheControl: String

    public init(length: UInt64, lastModified: Int64, etag: EntityTag, contentType: String, cacheControl: String) {
        self.length = length
        self.lastModified = lastModified
        self.etag = etag
        self.contentType = contentType
        self.cacheControl = cacheControl
    }
}

/// The request header fields that decide a GET or HEAD response; list-valued fields joined with commas.
public struct ConditionalRequest: Equatable, Sendable {
    public var range: String?
    public var ifRange: String?
    public var ifMatch: String?
    public var ifNoneMatch: String?
    public var ifModifiedSince: String?
    public var ifUnmodifiedSince: String?

    public init(range: String? = nil, ifRange: String? = nil, ifMatch: String? = nil, ifNoneMatch: String? = nil,
                ifModifiedSince: String? = nil, ifUnmodifiedSince: String? = nil) {
        self.range = range
        self.ifRange = ifRange
        self.ifMatch = ifMatch
        self.ifNoneMatch = ifNoneMatch
        self.ifModifiedSince = ifModifiedSince
        self.ifUnmodifiedSince = ifUnmodifiedSince
    }
}

/// RFC 9110 response selection for static representations: preconditions (§13.2.2, in order), then Range (§14),
/// with If-Range (§13.1.5). Pure: the same inputs always give the same plan.
public enum ResponsePlanner {
    /// Methods a node serves.
    public static let allowedMethods = "GET, HEAD, OPTIONS"

    /// Which response a GET or HEAD gets, before any header is written.
    public enum Selection: Equatable, Sendable {
        /// 200 with the whole representation.
        case whole
        /// 206 with these ranges (one: single part; several: multipart).
        case ranges([Range<UInt64>])
        /// 304.
        case notModified
        /// 412.
        case preconditionFailed
        /// 416.
        case unsatisfiable
    }

    /// Evaluates the preconditions in RFC 9110 §13.2.2 order, then Range with If-Range (§14.2, §13.1.5).
    public static func select(isHead: Bool, request: ConditionalRequest, representation r: Representation) -> Selection {
        // 1. If-Match (strong comparison); 2. If-Unmodified-Since, only without If-Match.
        if let ifMatch = request.ifMatch {
            if !matches(EntityTag.parseList(Substring(ifMatch)), r.etag, weak: false) { return .preconditionFailed }
        } else if let text = request.ifUnmodifiedSince, let date = HTTPDate.parse(Substring(text)), r.lastModified > date {
            return .preconditionFailed
        }
        // 3. If-None-Match (weak comparison): 304 for GET and HEAD; 4. If-Modified-Since, only without If-None-Match.
        if let ifNoneMatch = request.ifNoneMatch {
            if matches(EntityTag.parseList(Substring(ifNoneMatch)), r.etag, weak: true) { return .notModified }
        } else if let text = request.ifModifiedSince, let date = HTTPDate.parse(Substring(text)), r.lastModified <= date {
            return .notModified
        }
        // 5. Range, for GET only, unless If-Range says the client's copy is stale.
        guard !isHead, let rangeText = request.range, ifRangeHolds(request.ifRange, r),
              case .bytes(let specs) = ByteRanges.parse(Substring(rangeText)) else { return .whole }
        switch ByteRanges.resolve(specs, length: r.length) {
        case .unsatisfiable: return .unsatisfiable
        case .satisfiable(let ranges): return .ranges(ranges)
        }
    }

    /// The header fields every 200 and 206 of `representation` carries (validators, caching, type, Accept-Ranges).
    public static func commonFields(_ r: Representation) -> [ResponsePlan.Field] {
        [
            ResponsePlan.Field("ETag", r.etag.description),
            ResponsePlan.Field("Last-Modified", HTTPDate.format(r.lastModified)),
            ResponsePlan.Field("Cache-Control", r.cacheControl),
            ResponsePlan.Field("Accept-Ranges", "bytes"),
            ResponsePlan.Field("Content-Type", r.contentType),
        ]
    }

    /// Plans a GET or HEAD of `representation`: `select`, then the status, fields and body it implies.
    public static func plan(isHead: Bool, request: ConditionalRequest, representation r: Representation,
                            boundary: @autoclosure () -> String) -> ResponsePlan {
        let validators = Array(commonFields(r).prefix(3))
        switch select(isHead: isHead, request: request, representation: r) {
        case .preconditionFailed:
            return ResponsePlan(status: 412, fields: Array(validators.prefix(2)) + [noStore], body: .empty, sendsBody: false)
        case .notModified:
            return ResponsePlan(status: 304, fields: validators, body: .empty, sendsBody: false)
        case .unsatisfiable:
            // An error is not the representation: it must not inherit its freshness.
            return ResponsePlan(status: 416, fields: Array(validators.prefix(2)) + [noStore, .init("Accept-Ranges", "bytes"),
                                                                                  .init("Content-Range", "bytes */\(r.length)"),
                                                                   .init("Content-Type", "text/plain; charset=utf-8")],
                                body: .text("range not satisfiable\n"))
        case .whole:
            return ResponsePlan(status: 200, fields: commonFields(r), body: .file(0..<r.length), sendsBody: !isHead)
        case .ranges(let ranges) where ranges.count == 1:
            return ResponsePlan(status: 206, fields: commonFields(r) + [.init("Content-Range", contentRange(ranges[0], r.length))],
                                body: .file(ranges[0]))
        case .ranges(let ranges):
            let separator = boundary()
            let parts = ranges.map { range in
                ResponsePlan.Part(head: "\r\n--\(separator)\r\nContent-Type: \(r.contentType)\r\nContent-Range: \(contentRange(range, r.length))\r\n\r\n",
                                  range: range)
            }
            var fields = commonFields(r)
            fields[fields.count - 1] = .init("Content-Type", "multipart/byteranges; boundary=\(separator)")
            return ResponsePlan(status: 206, fields: fields, body: .multipart(parts, closing: "\r\n--\(separator)--\r\n"))
        }
    }

    /// `bytes first-last/length`.
    public static func contentRange(_ range: Range<UInt64>, _ length: UInt64) -> String {
        "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(length)"
    }

    static func matches(_ condition: EntityTag.Condition, _ current: EntityTag, weak: Bool) -> Bool {
        switch condition {
        case .any: true
        case .malformed: false
        case .tags(let tags): tags.contains { weak ? $0.weakMatches(current) : $0.strongMatches(current) }
        }
    }

    /// If-Range: absent → true; an entity tag must match strongly; a date must equal Last-Modified exactly.
    static func ifRangeHolds(_ value: String?, _ r: Representation) -> Bool {
        guard let value else { return true }
        let text = Substring(value).trimming(while: { $0 == " " || $0 == "\t" })
        if text.hasPrefix("\"") || text.hasPrefix("W/") {
            return EntityTag.parse(text).map { $0.strongMatches(r.etag) } ?? false
        }
        return HTTPDate.parse(text) == r.lastModified
    }

    /// `Cache-Control: no-store`, for answers no cache may keep (errors, redirects, node endpoints).
    public static let noStore = ResponsePlan.Field("Cache-Control", "no-store")

    /// A short error or status response with a text body; errors are `no-store` (a cache must not keep a 404 or a
    /// 5xx for longer than it lasts).
    public static func status(_ code: Int, _ message: String, isHead: Bool = false, extra: [ResponsePlan.Field] = []) -> ResponsePlan {
        let caching = code >= 400 && !extra.contains { $0.name == "Cache-Control" } ? [noStore] : []
        return ResponsePlan(status: code, fields: [.init("Content-Type", "text/plain; charset=utf-8")] + caching + extra,
                            body: .text(message + "\n"), sendsBody: !isHead)
    }

    /// 405 with the methods a node serves.
    public static func methodNotAllowed() -> ResponsePlan {
        status(405, "method not allowed", extra: [.init("Allow", allowedMethods)])
    }

    /// The answer to a CORS preflight (`OPTIONS`).
    public static func preflight() -> ResponsePlan {
        ResponsePlan(status: 204, fields: [
            .init("Allow", allowedMethods),
            .init("Access-Control-Allow-Methods", allowedMethods),
            .init("Access-Control-Allow-Headers", "Range, If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, If-Range"),
            .init("Access-Control-Max-Age", "86400"),
        ], body: .empty)
    }

    /// Headers every response carries so that web players can read media cross-origin, see where it came from
    /// (`X-Cache`, `Age`) and measure throughput with Resource Timing (`Timing-Allow-Origin`).
    public static let corsFields = [
        ResponsePlan.Field("Access-Control-Allow-Origin", "*"),
        ResponsePlan.Field("Access-Control-Expose-Headers", "Content-Range, Content-Length, Accept-Ranges, ETag, X-Cache, Age"),
        ResponsePlan.Field("Timing-Allow-Origin", "*"),
    ]
}
