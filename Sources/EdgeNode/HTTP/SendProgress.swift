import NIOCore

#if canImport(Glibc)
import Glibc
import Gossip
#endif

/// Whether a response is making progress, measured by what the client's TCP acknowledged (`tcpi_bytes_acked`), not
/// by what was handed to the kernel: a client that stops reading is noticed even while socket buffers still hold
/// megabytes, and one that reads slowly but steadily is seen progressing even while one large sendfile region is
/// pending. Pure except for the one socket option read.
struct SendProgress {
    private var acknowledged: UInt64?
    private var measuredAt: UInt64 = 0

    /// Records a measurement; true when at least `minimumPerSecond` bytes a second were acknowledged since the last
    /// one (the first measurement only sets the baseline).
    mutating func advanced(to bytes: UInt64, at now: UInt64, minimumPerSecond: UInt64) -> Bool {
        defer {
            acknowledged = bytes
            measuredAt = now
        }
        guard let previous = acknowledged, bytes > previous else { return false }
        let elapsedSeconds = max(1, now.elapsed(since: measuredAt) / 1_000_000_000)
        let (required, overflow) = elapsedSeconds.multipliedReportingOverflow(by: minimumPerSecond)
        return bytes - previous >= (overflow ? .max : required)
    }

    /// The start of Linux's `struct tcp_info`, through `tcpi_min_rtt` (glibc's copy of the struct stops before
    /// `tcpi_bytes_acked` and `tcpi_notsent_bytes`, which the kernel has filled in since 4.2 and 4.6).
    struct TCPInfoPrefix: Sendable {
        var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                    UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

        private func load<T: FixedWidthInteger>(_ offset: Int, as: T.Type) -> T {
            withUnsafeBytes(of: words) { $0.load(fromByteOffset: offset, as: T.self) }
        }

        /// Segments sent and not yet acknowledged.
        var unacknowledgedSegments: UInt32 { load(24, as: UInt32.self) }
        var bytesAcked: UInt64 { load(120, as: UInt64.self) }
        /// Bytes in the send queue not yet sent.
        var notSentBytes: UInt32 { load(144, as: UInt32.self) }
    }

    /// What the kernel says of this connection's sending: bytes the peer acknowledged, and whether bytes handed over
    /// are still unsent or unacknowledged (a response NIO finished writing can still be in the socket's buffer).
    struct Measurement: Sendable {
        var acknowledged: UInt64
        var pending: Bool
    }

    /// Fails for a channel that is not a TCP socket.
    static func measure(_ channel: Channel) -> EventLoopFuture<Measurement> {
        guard let provider = channel as? SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
        }
        let info: EventLoopFuture<TCPInfoPrefix> = provider.unsafeGetSocketOption(level: .init(rawValue: CInt(IPPROTO_TCP)),
                                                                                 name: .init(rawValue: CInt(TCP_INFO)))
        return info.map { Measurement(acknowledged: $0.bytesAcked, pending: $0.unacknowledgedSegments > 0 || $0.notSentBytes > 0) }
    }
}
