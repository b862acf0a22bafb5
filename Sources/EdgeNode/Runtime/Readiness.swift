import Synchronization

/// Waits for every listener of a node (data plane, gossip, control API) to be bound, then calls `ready` once: the
/// moment systemd is told `READY=1`.
final class Readiness: Sendable {
    private let pending: Mutex<Set<String>?>
    private let ready: @Sendable () -> Void

    init(listeners: Set<String>, ready: @escaping @Sendable () -> Void) {
        pending = Mutex(listeners)
        self.ready = ready
    }

    /// The listener `name` is bound.
    func listening(_ name: String) {
        let complete = pending.withLock { pending -> Bool in
            guard pending != nil else { return false }
            pending!.remove(name)
            guard pending!.isEmpty else { return false }
            pending = nil
            return true
        }
        if complete { ready() }
    }
}
