import Dispatch
import NIOConcurrencyHelpers
import NIOCore

/// Whether event loops still run tasks: the systemd watchdog's question. A loop blocked by a bug must stop the pings,
/// so the answer never waits on the loops themselves past the deadline.
enum EventLoopProbe {
    /// True when each of `loops` ran a submitted task within `timeout`.
    static func respond(_ loops: [EventLoop], within timeout: Duration) async -> Bool {
        guard let first = loops.first else { return true }
        let all = EventLoopFuture.andAllSucceed(loops.map { $0.submit {} }, on: first)
        let nanoseconds = Int(clamping: timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        return await withCheckedContinuation { continuation in
            let answered = NIOLockedValueBox(false)
            let finish: @Sendable (Bool) -> Void = { result in
                let isFirst = answered.withLockedValue { done in
                    defer { done = true }
                    return !done
                }
                if isFirst { continuation.resume(returning: result) }
            }
            all.whenComplete { finish((try? $0.get()) != nil) }
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { finish(false) }
        }
    }
}
