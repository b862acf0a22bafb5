import HTTPSemantics
import NIOCore

/// A response streamed while its object is filled: the head goes out with the first verified bytes (so a fill that
/// fails before any byte still gets a clean 502/504), then each verified range as a sendfile region of the partial
/// file. A failure after the head cuts the connection, so a client never mistakes a truncated body for a whole one.
final class MissResponse: FillSink, @unchecked Sendable {
    private let eventLoop: EventLoop
    private let connection: NIOLoopBound<(FileRequestHandler, ChannelHandlerContext)>
    private let range: Range<Int64>
    /// Status line and fields, without `X-Cache` and the end of the head.
    private let head: ByteBuffer
    private let keepAlive: Bool
    private let http10: Bool
    // Confined to `eventLoop`:
    private var reader: SharedFile?
    private var outcome = EdgeMetrics.Outcome.miss
    private var headSent = false
    private var sent: Int64
    private var ended = false

    init(context: ChannelHandlerContext, handler: FileRequestHandler, range: Range<Int64>, head: ByteBuffer, keepAlive: Bool, http10: Bool) {
        eventLoop = context.eventLoop
        connection = NIOLoopBound((handler, context), eventLoop: context.eventLoop)
        self.range = range
        self.head = head
        self.keepAlive = keepAlive
        self.http10 = http10
        sent = range.lowerBound
    }

    func prepare(reader: SharedFile, outcome: EdgeMetrics.Outcome) {
        eventLoop.preconditionInEventLoop()
        self.reader = reader
        self.outcome = outcome
    }

    func available(upTo offset: Int64) { onLoop { $0.write(upTo: offset, flush: true) } }

    func finish() {
        onLoop { response in
            response.write(upTo: response.range.upperBound, flush: false)
            response.end(failed: false)
        }
    }

    func fail(status: Int, reason: String) {
        onLoop { response in
            guard !response.ended else { return }
            if response.headSent {
                response.end(failed: true)
            } else {
                response.ended = true
                let (handler, context) = response.connection.value
                handler.finishAsync(context: context, plan: ResponsePlanner.status(status, reason, extra: [.init("X-Cache", EdgeMetrics.Outcome.miss.rawValue)]),
                                    outcome: .miss, keepAlive: response.keepAlive, http10: response.http10)
            }
        }
    }

    private func onLoop(_ body: @escaping @Sendable (MissResponse) -> Void) {
        if eventLoop.inEventLoop {
            body(self)
        } else {
            eventLoop.execute { body(self) }
        }
    }

    private func write(upTo offset: Int64, flush: Bool) {
        guard !ended, let reader else { return }
        let (handler, context) = connection.value
        let end = min(offset, range.upperBound)
        if !headSent {
            headSent = true
            var head = head
            ResponseHead.writeField("X-Cache", outcome.rawValue, into: &head)
            head.writeStaticString("Age: 0\r\n")
            ResponseHead.end(&head, keepAlive: keepAlive, http10: http10)
            context.write(handler.wrapOutboundOut(.byteBuffer(head)), promise: nil)
            handler.edge?.metrics.responded(outcome)
        }
        if end > sent {
            guard let handle = reader.handle(on: eventLoop) else {
                self.end(failed: true)
                return
            }
            let region = FileRegion(fileHandle: handle, readerIndex: Int(sent), endIndex: Int(end))
            context.write(handler.wrapOutboundOut(.fileRegion(region)), promise: nil)
            sent = end
        }
        if flush { context.flush() }
    }

    private func end(failed: Bool) {
        guard !ended else { return }
        ended = true
        let (handler, context) = connection.value
        handler.streamEnded(context: context, reader: reader, failed: failed, keepAlive: keepAlive)
    }
}
