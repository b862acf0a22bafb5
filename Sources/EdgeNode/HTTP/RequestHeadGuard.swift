import NIOCore

/// Sits in front of the HTTP parser and watches raw bytes: a request head (request line and header fields, and any
/// empty lines before it) larger than the limit is answered 431, and a request — head and body — that takes longer
/// than the timeout to arrive from its first byte is answered 408; both then closed. The deadline is armed by the
/// first byte of each request and never extended by later ones, so no trickle (empty lines, a head or a body byte by
/// byte) can hold a connection: every request must arrive at an average of at least limit ÷ timeout. This bounds the
/// memory a connection can make the parser hold and defeats slowloris. A chunked body's end is not followed here:
/// the request handler sends `StopReading` when it has the whole request (it never reuses such a connection).
/// Tells the guard (and everything before the HTTP handler) that the connection is closing: discard further input.
struct StopReading: Sendable {}

final class RequestHeadGuard: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let timeout: TimeAmount
    private var scanner: RequestHeadScanner
    private var deadline: Scheduled<Void>?
    private var rejected = false
    /// Set once the connection is being closed for another reason: later bytes are body or junk, not heads.
    private var discarding = false

    init(limit: Int, timeout: TimeAmount) {
        self.timeout = timeout
        scanner = RequestHeadScanner(limit: limit)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !rejected && !discarding else { return }
        let outcome = unwrapInboundIn(data).withUnsafeReadableBytes { scanner.consume($0) }
        if outcome.overflow {
            reject(context: context, status: "431 Request Header Fields Too Large", message: "request header fields too large")
            return
        }
        if outcome.completedRequests > 0 {
            deadline?.cancel()
            deadline = nil
        }
        if outcome.inRequest && deadline == nil {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            deadline = context.eventLoop.scheduleTask(in: timeout) {
                let (handler, context) = loopBound.value
                handler.reject(context: context, status: "408 Request Timeout", message: "request not received in time")
            }
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is StopReading {
            discarding = true
            deadline?.cancel()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }

    private func reject(context: ChannelHandlerContext, status: String, message: String) {
        guard !rejected else { return }
        rejected = true
        deadline?.cancel()
        let body = message + "\n"
        var response = context.channel.allocator.buffer(capacity: 160)
        response.writeString("HTTP/1.1 \(status)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        LingeringClose.start(context, after: context.writeAndFlush(wrapOutboundOut(response)))
    }
}
