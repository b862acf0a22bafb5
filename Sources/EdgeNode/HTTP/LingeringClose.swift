import NIOCore

/// Closing a socket that still has unread request bytes makes the kernel send RST, which can destroy the error
/// response just written. So after an error that ends a connection mid-request, close only our side, keep reading
/// and discarding what the client still sends, and close fully at EOF or after `grace`.
enum LingeringClose {
    static let grace = TimeAmount.seconds(2)

    /// Flushes what was written, half-closes, and closes fully within `grace`.
    static func start(_ context: ChannelHandlerContext, after write: EventLoopFuture<Void>) {
        let channel = context.channel
        write.whenComplete { _ in
            channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in
                channel.close(mode: .output, promise: nil)
                channel.eventLoop.scheduleTask(in: grace) { channel.close(promise: nil) }
            }
        }
    }
}
