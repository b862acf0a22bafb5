import HTTPSemantics
import NIOCore

/// A response streamed while its object is filled: the head goes out with the first verified bytes (so a fill that
/// fails before any byte still gets a clean 502/504), then each verified range as a sendfile region of the partial
/// file. A failure after the head cuts the connection, so a client never mistakes a truncated body for a whole one.
final class MissResponse: FillSink, @unchecked Sendable {
    private let eventLoop: EventLoop
    private let connection: NIOLoopBound<(FileRequestHandler, ChannelHandlerContext)>
    private let range: Range<Int64>
    /// 200 or 206.
    private let status: Int
    /// Status line and fields, without `X-Cache` and the end of the head.
    private let head: ByteBuffer
    private let keepAlive: Bool
    private let http10: Bool
    // Confined to `eventLoop`:
    private var reader: SharedFile?
    private var outcome = EdgeMetrics.Outcome.miss
    private var headSent = false
    private var sent: Int64
    /// Every byte before this offset is verified (the highest `available` seen).
    private var verifiedEnd: Int64
    private var continuationPending = false
    private var ended = false
    /// The cache could not store the object: bytes arrive in memory through `deliver`, not on disk.
    private var uncached = false
    /// At most this much is handed to sendfile per turn, so that one response with a lot to catch up on (a viewer
    /// joining a fill late) does not hold the event loop while others wait for their first byte (like nginx's
    /// `sendfile_max_chunk`).
    static let sliceBytes: Int64 = 128 * 1024

    init(context: ChannelHandlerContext, handler: FileRequestHandler, range: Range<Int64>, status: Int, head: ByteBuffer, keepAlive: Bool,
         http10: Bool) {
        eventLoop = context.eventLoop
        connection = NIOLoopBound((handler, context), eventLoop: context.eventLoop)
        self.range = range
        self.status = status
        self.head = head
        self.keepAlive = keepAlive
        self.http10 = http10
        sent = range.lowerBound
        verifiedEnd = range.lowerBound
    }

    func prepare(reader: SharedFile, outcome: EdgeMetrics.Outcome) {
        eventLoop.preconditionInEventLoop()
        self.reader = reader
        self.outcome = outcome
    }

    func available(upTo offset: Int64) {
        onLoop { response in
            response.verifiedEnd = max(response.verifiedEnd, min(offset, response.range.upperBound))
            response.write()
        }
    }

    func finish() {
        onLoop { response in
            response.verifiedEnd = response.range.upperBound
            response.write()
        }
    }

    func streamUncached(_ source: @escaping UncachedSource) {
        onLoop { response in
            guard !response.ended else {
                // The viewer left already: ask for nothing, which ends the stream at once and gives its slot back.
                let nothing = response.range.upperBound..<response.range.upperBound
                source(nothing, response.eventLoop, { _, _ in false }, { _ in })
                return
            }
            response.uncached = true
            source(response.sent..<response.range.upperBound, response.eventLoop, { buffer, offset in
                response.deliver(buffer, at: offset)
            }, { status in
                if let status {
                    response.failNow(status: status, reason: "no parent delivered verified bytes")
                } else if response.sent < response.range.upperBound {
                    response.end(failed: true)
                }
            })
        }
    }

    func fail(status: Int, reason: String) {
        onLoop { response in response.failNow(status: status, reason: reason) }
    }

    private func failNow(status: Int, reason: String) {
        guard !ended else { return }
        if headSent {
            end(failed: true)
        } else {
            ended = true
            let (handler, context) = connection.value
            handler.finishAsync(context: context, plan: ResponsePlanner.status(status, reason, extra: [.init("X-Cache", EdgeMetrics.Outcome.miss.rawValue)]),
                                outcome: .miss, keepAlive: keepAlive, http10: http10)
        }
    }

    /// Writes the part of `buffer` (bytes at `offset` of the file) this response still needs; false once it needs
    /// nothing more.
    private func deliver(_ buffer: ByteBuffer, at offset: Int64) -> Bool {
        let (handler, context) = connection.value
        guard !ended, context.channel.isActive else { return false }
        let lower = max(offset, sent), upper = min(offset + Int64(buffer.readableBytes), range.upperBound)
        sendHeadIfNeeded()
        if upper > lower, let slice = buffer.getSlice(at: buffer.readerIndex + Int(lower - offset), length: Int(upper - lower)) {
            context.writeAndFlush(handler.wrapOutboundOut(.byteBuffer(slice)), promise: nil)
            sent = upper
        }
        if sent == range.upperBound { end(failed: false) }
        return !ended
    }

    private func onLoop(_ body: @escaping @Sendable (MissResponse) -> Void) {
        if eventLoop.inEventLoop {
            body(self)
        } else {
            eventLoop.execute { body(self) }
        }
    }

    /// Sends the next slice of verified bytes (the head first); schedules itself again while more is verified, and
    /// ends the response once everything asked for is sent.
    private func write() {
        guard !ended, !uncached, let reader else { return }
        let (handler, context) = connection.value
        sendHeadIfNeeded()
        let end = min(verifiedEnd, sent + Self.sliceBytes)
        if end > sent {
            guard let handle = reader.handle(on: eventLoop) else {
                self.end(failed: true)
                return
            }
            let region = FileRegion(fileHandle: handle, readerIndex: Int(sent), endIndex: Int(end))
            context.write(handler.wrapOutboundOut(.fileRegion(region)), promise: nil)
            sent = end
        }
        context.flush()
        if sent == range.upperBound {
            self.end(failed: false)
        } else if sent < verifiedEnd && !continuationPending {
            continuationPending = true
            eventLoop.execute {
                self.continuationPending = false
                self.write()
            }
        }
    }

    private func sendHeadIfNeeded() {
        guard !headSent else { return }
        headSent = true
        let (handler, context) = connection.value
        var head = head
        ResponseHead.writeField("X-Cache", outcome.rawValue, into: &head)
        head.writeStaticString("Age: 0\r\n")
        if let via = handler.edge?.via { ResponseHead.writeField(via.name, via.value, into: &head) }
        ResponseHead.end(&head, keepAlive: keepAlive, http10: http10)
        context.write(handler.wrapOutboundOut(.byteBuffer(head)), promise: nil)
        handler.headWritten(status: status, bytes: UInt64(range.count))
        handler.answered(outcome)
        handler.traffic.sending(UInt64(range.count))
    }

    private func end(failed: Bool) {
        guard !ended else { return }
        ended = true
        let (handler, context) = connection.value
        handler.streamEnded(context: context, reader: reader, failed: failed, keepAlive: keepAlive)
    }
}
