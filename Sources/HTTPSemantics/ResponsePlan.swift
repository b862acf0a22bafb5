/// What to answer, decided before any byte is sent: status, headers and which bytes of the file form the body.
public struct ResponsePlan: Equatable, Sendable {
    /// One header field.
    public struct Field: Equatable, Sendable {
        public let name: String
        public let value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// One part of a `multipart/byteranges` body.
    public struct Part: Equatable, Sendable {
        /// CRLF, boundary line, the part's Content-Type and Content-Range, blank line.
        public let head: String
        public let range: Range<UInt64>
    }

    /// The body.
    public enum Body: Equatable, Sendable {
        case empty
        /// A short generated text (errors, health).
        case text(String)
        /// Bytes of the file.
        case file(Range<UInt64>)
        /// Parts of the file with their heads, then the closing delimiter.
        case multipart([Part], closing: String)
    }

    public var status: Int
    public var fields: [Field]
    public var body: Body
    /// False for HEAD: headers (Content-Length included) as for GET, no body bytes.
    public var sendsBody: Bool

    public init(status: Int, fields: [Field], body: Body, sendsBody: Bool = true) {
        self.status = status
        self.fields = fields
        self.body = body
        self.sendsBody = sendsBody
    }

    /// The exact number of body bytes a GET would send.
    public var contentLength: UInt64 {
        switch body {
        case .empty: 0
        case .text(let text): UInt64(text.utf8.count)
        case .file(let range): range.upperBound - range.lowerBound
        case .multipart(let parts, let closing):
            parts.reduce(UInt64(closing.utf8.count)) { $0 + UInt64($1.head.utf8.count) + ($1.range.upperBound - $1.range.lowerBound) }
        }
    }

    /// The first value of a header, by case-insensitive name.
    public func value(_ name: String) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
