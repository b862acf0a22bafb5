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

    /// Plans a GET or HEAD of `representation`.
    public static func plan(isHead: Bool, request: ConditionalRequest, representation r: Representation,
                            boundary: @autoclosure () -> String) -> ResponsePlan {
        let validators = [
            ResponsePlan.Field("ETag", r.etag.description),
            ResponsePlan.Field("Last-Modified", HTTPDate.format(r.lastModified)),
            ResponsePlan.Field("Cache-Control", r.cacheControl),
        ]
        // 1. If-Match (strong comparison).
        if let ifMatch = request.ifMatch {
            if !matches(EntityTag.parseList(Substring(ifMatch)), r.etag, weak: false) {
                return ResponsePlan(status: 412, fields: validators, body: .empty, sendsBody: false)
            }
        } else if let text = request.ifUnmodifiedSince, let date = HTTPDate.parse(Substring(text)), r.lastModified > date {
            // 2. If-Unmodified-Since, only without If-Match.
            return ResponsePlan(status: 412, fields: validators, body: .empty, sendsBody: false)
        }
        // 3. If-None-Match (weak comparison): 304 for GET and HEAD.
        if let ifNoneMatch = request.ifNoneMatch {
            if matches(EntityTag.parseList(Substring(ifNoneMatch)), r.etag, weak: true) {
                return ResponsePlan(status: 304, fields: validators, body: .empty, sendsBody: false)
            }
        } else if let text = request.ifModifiedSince, let date = HTTPDate.parse(Substring(text)), r.lastModified <= date {
            // 4. If-Modified-Since, only without If-None-Match.
            return ResponsePlan(status: 304, fields: validators, body: .empty, sendsBody: false)
        }
        var fields = validators + [ResponsePlan.Field("Accept-Ranges", "bytes")]
        // 5. Range, for GET only, unless If-Range says the client's copy is stale.
        if !isHead, let rangeText = request.range, ifRangeHolds(request.ifRange, r),
           case .bytes(let specs) = ByteRanges.parse(Substring(rangeText)) {
            switch ByteRanges.resolve(specs, length: r.length) {
            case .unsatisfiable:
                fields.append(.init("Content-Range", "bytes */\(r.length)"))
                fields.append(.init("Content-Type", "text/plain; charset=utf-8"))
                return ResponsePlan(status: 416, fields: fields, body: .text("range not satisfiable\n"))
            case .satisfiable(let ranges) where ranges.count == 1:
                let range = ranges[0]
                fields.append(.init("Content-Type", r.contentType))
                fields.append(.init("Content-Range", "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(r.length)"))
                return ResponsePlan(status: 206, fields: fields, body: .file(range))
            case .satisfiable(let ranges):
                let separator = boundary()
                let parts = ranges.map { range in
                    ResponsePlan.Part(head: "\r\n--\(separator)\r\nContent-Type: \(r.contentType)\r\n"
                                          + "Content-Range: bytes \(range.lowerBound)-\(range.upperBound - 1)/\(r.length)\r\n\r\n",
                                      range: range)
                }
                fields.append(.init("Content-Type", "multipart/byteranges; boundary=\(separator)"))
                return ResponsePlan(status: 206, fields: fields, body: .multipart(parts, closing: "\r\n--\(separator)--\r\n"))
            }
        }
        fields.append(.init("Content-Type", r.contentType))
        return ResponsePlan(status: 200, fields: fields, body: .file(0..<r.length), sendsBody: !isHead)
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

    /// A short error or status response with a text body.
    public static func status(_ code: Int, _ message: String, isHead: Bool = false, extra: [ResponsePlan.Field] = []) -> ResponsePlan {
        ResponsePlan(status: code, fields: [.init("Content-Type", "text/plain; charset=utf-8")] + extra,
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

    /// Headers every response carries so that web players can read media cross-origin.
    public static let corsFields = [
        ResponsePlan.Field("Access-Control-Allow-Origin", "*"),
        ResponsePlan.Field("Access-Control-Expose-Headers", "Content-Range, Content-Length, Accept-Ranges, ETag"),
    ]
}
