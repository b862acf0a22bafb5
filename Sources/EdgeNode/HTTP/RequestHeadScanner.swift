/// Follows the framing of HTTP/1.1 requests in a raw byte stream — empty lines before a request, heads,
/// `Content-Length` bodies — so that head size and the arrival time of a whole request can be bounded before the
/// parser buffers anything. Pure: bytes in, counts out.
struct RequestHeadScanner {
    /// What one batch of bytes did.
    struct Outcome: Equatable {
        /// A head grew beyond the limit.
        var overflow = false
        /// Requests (head and body) completed in this batch.
        var completedRequests = 0
        /// A request has begun and is not complete at the end of the batch: empty lines before it, its head, or its
        /// body (a chunked body is never complete here: the connection ends after its answer).
        var inRequest = false
    }

    private enum State: Equatable {
        case betweenRequests
        /// CR and LF before a request line (RFC 9112 §2.2 lets a server skip them): they count against the head's
        /// size and time like the head itself.
        case leadingEmptyLines
        case head
        case body(remaining: UInt64)
        /// A chunked body: framing is left to the parser (the connection is closed after its answer).
        case passthrough
    }

    let limit: Int
    private var state = State.betweenRequests
    private var headBytes = 0
    /// Bytes in the current line, line endings excluded.
    private var lineLength = 0
    /// The current header line's name, lowercased, while it is still short enough to matter.
    private var lineName: [UInt8] = []
    private var lineState = LineState.name
    private var contentLength: UInt64 = 0
    private var chunked = false

    private enum LineState { case name, value(isContentLength: Bool, isTransferEncoding: Bool), ignore }

    init(limit: Int) { self.limit = limit }

    mutating func consume(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        var outcome = Outcome()
        var index = 0
        while index < bytes.count {
            switch state {
            case .passthrough:
                outcome.inRequest = true
                return outcome
            case .body(let remaining):
                let take = UInt64(bytes.count - index) < remaining ? UInt64(bytes.count - index) : remaining
                index += Int(take)
                if remaining - take == 0 {
                    state = .betweenRequests
                    outcome.completedRequests += 1
                } else {
                    state = .body(remaining: remaining - take)
                }
            case .betweenRequests, .leadingEmptyLines:
                let byte = bytes[index]
                index += 1
                if state == .betweenRequests { headBytes = 0 }
                headBytes += 1
                if headBytes > limit {
                    outcome.overflow = true
                    return outcome
                }
                if byte == 13 || byte == 10 {
                    state = .leadingEmptyLines
                    continue
                }
                state = .head
                lineLength = 1
                lineState = .ignore
                contentLength = 0
                chunked = false
            case .head:
                let byte = bytes[index]
                index += 1
                headBytes += 1
                if headBytes > limit {
                    outcome.overflow = true
                    return outcome
                }
                if byte == 10 {
                    // A line ends at LF (CRLF or bare LF); an empty line ends the head.
                    if lineLength == 0 {
                        state = chunked ? .passthrough : contentLength > 0 ? .body(remaining: contentLength) : .betweenRequests
                        if state == .betweenRequests { outcome.completedRequests += 1 }
                    } else {
                        lineLength = 0
                        lineName.removeAll(keepingCapacity: true)
                        lineState = .name
                    }
                    continue
                }
                if byte == 13 { continue }
                lineLength += 1
                track(byte)
            }
        }
        outcome.inRequest = state != .betweenRequests
        return outcome
    }

    /// Notes `Content-Length` and `Transfer-Encoding` values as header lines stream past.
    private mutating func track(_ byte: UInt8) {
        switch lineState {
        case .name:
            if byte == UInt8(ascii: ":") {
                let isLength = lineName == Array("content-length".utf8)
                let isEncoding = lineName == Array("transfer-encoding".utf8)
                lineState = isLength || isEncoding ? .value(isContentLength: isLength, isTransferEncoding: isEncoding) : .ignore
                if isLength { contentLength = 0 }
                if isEncoding { chunked = true }
            } else if lineName.count < 20 {
                lineName.append(byte | (byte >= 65 && byte <= 90 ? 0x20 : 0))
            } else {
                lineState = .ignore
            }
        case .value(let isContentLength, _):
            if isContentLength, byte >= 0x30 && byte <= 0x39 {
                let (times, o1) = contentLength.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(UInt64(byte - 0x30))
                contentLength = o1 || o2 ? .max : sum
            }
        case .ignore:
            break
        }
    }
}
