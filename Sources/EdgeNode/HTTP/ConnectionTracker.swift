import NIOConcurrencyHelpers
import NIOCore

/// Knows every open connection: enforces the connection limit and, on shutdown, asks each to close once its
/// in-flight response is done.
final class ConnectionTracker: Sendable {
    private let limit: Int
    private let channels = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])

    init(limit: Int) { self.limit = limit }

    var count: Int { channels.withLockedValue { $0.count } }

    /// Registers a new connection; false when over the limit (the caller closes it).
    func admit(_ channel: Channel) -> Bool {
        let admitted = channels.withLockedValue { open in
            guard open.count < limit else { return false }
            open[ObjectIdentifier(channel)] = channel
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [self] _ in
                _ = channels.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) }
            }
        }
        return admitted
    }

    /// Tells every connection to finish its current response and close.
    func drain() {
        for channel in channels.withLockedValue({ Array($0.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(DrainRequest())
        }
    }

    /// Closes whatever is still open.
    func closeAll() {
        for channel in channels.withLockedValue({ Array($0.values) }) { channel.close(promise: nil) }
    }
}

/// Sent down each connection's pipeline when the server shuts down.
struct DrainRequest: Sendable {}
