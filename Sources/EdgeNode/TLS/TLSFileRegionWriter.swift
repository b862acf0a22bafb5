import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// On a TLS connection, between the TLS handler and the HTTP handlers: file regions (sendfile bodies of files and of
/// streamed fills) cannot be encrypted by the kernel here (no kTLS), so they are read into buffers — at most
/// `sliceBytes` at a time, and only while the connection is writable, so a slow viewer holds one slice, not a
/// segment. Writes queued behind a region keep their order; a region's promise completes with its last slice.
final class TLSFileRegionWriter: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    static let sliceBytes = 128 * 1024

    private struct Pending {
        var data: IOData
        let promise: EventLoopPromise<Void>?
    }

    private var queue: [Pending] = []
    private var flushPending = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let data = unwrapOutboundIn(data)
        if queue.isEmpty, case .byteBuffer = data {
            context.write(wrapOutboundOut(data), promise: promise)
            return
        }
        queue.append(Pending(data: data, promise: promise))
    }

    func flush(context: ChannelHandlerContext) {
        if queue.isEmpty {
            context.flush()
        } else {
            flushPending = true
            pump(context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pump(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(ChannelError.ioOnClosedChannel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    private func fail(_ error: Error) {
        let failed = queue
        queue.removeAll()
        for pending in failed { pending.promise?.fail(error) }
    }

    /// Writes what is queued, a slice of a region at a time, while the connection can take it.
    private func pump(context: ChannelHandlerContext) {
        while let first = queue.first, context.channel.isWritable {
            switch first.data {
            case .byteBuffer:
                queue.removeFirst()
                context.write(wrapOutboundOut(first.data), promise: first.promise)
            case .fileRegion(var region):
                let length = min(region.readableBytes, Self.sliceBytes)
                var buffer = context.channel.allocator.buffer(capacity: length)
                let read: Int
                do {
                    read = try region.fileHandle.withUnsafeFileDescriptor { descriptor in
                        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { bytes in
                            max(0, pread(descriptor, bytes.baseAddress, length, off_t(region.readerIndex)))
                        }
                    }
                } catch {
                    queue.removeFirst()
                    first.promise?.fail(error)
                    context.close(promise: nil)
                    return
                }
                guard read > 0 else {
                    // The file is shorter than the region (changed under the response): end the connection.
                    queue.removeFirst()
                    first.promise?.fail(ChannelError.ioOnClosedChannel)
                    context.close(promise: nil)
                    return
                }
                region.moveReaderIndex(forwardBy: read)
                if region.readableBytes == 0 {
                    queue.removeFirst()
                    context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: first.promise)
                } else {
                    queue[0].data = .fileRegion(region)
                    context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
                }
                // Flushed slice by slice: writability only changes once bytes reach the socket.
                context.flush()
            }
        }
        if queue.isEmpty && flushPending {
            flushPending = false
            context.flush()
        }
    }
}
