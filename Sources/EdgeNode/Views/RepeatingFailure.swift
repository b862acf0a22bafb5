import Dispatch
import Synchronization
import Gossip

/// A failure that recurs at every tick (a fleet CA the origin's certificate does not chain to fails each report
/// interval): it is news — worth a warning — the first time, when its reason changes, and again once `interval` has
/// passed; otherwise the caller logs it at debug level. A success clears it.
final class RepeatingFailure: Sendable {
    private let last = Mutex<(reason: String, at: UInt64)?>(nil)
    private let intervalNanoseconds: UInt64

    init(intervalSeconds: UInt64 = 600) {
        intervalNanoseconds = intervalSeconds * 1_000_000_000
    }

    /// Whether `reason`, failing now (uptime nanoseconds), should be told as a warning; if so it counts as told.
    func isNews(_ reason: String, now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> Bool {
        last.withLock { last in
            if let told = last, told.reason == reason, now.elapsed(since: told.at) < intervalNanoseconds { return false }
            last = (reason, now)
            return true
        }
    }

    /// The operation succeeded: the next failure is news again.
    func cleared() {
        last.withLock { $0 = nil }
    }
}
