import Logging
import Metrics
import ServiceLifecycle

/// Alive means serving: probes the data plane's event loops every `period` and, when they do not run a task within
/// `timeout` twice in a row, marks the node as not serving — gossip then announces it (routing sends it nobody
/// within a gossip round) and `/healthz` fails on any loop still running. The first probe that answers again puts
/// it back. Gossip runs on its own event loop, so without this a node whose data plane hung would keep being
/// announced alive and keep receiving viewers.
struct ServingMonitor: Service {
    let state: NodeState
    /// Whether every data-plane event loop ran a task within the time given.
    let loopsRespond: @Sendable (Duration) async -> Bool
    var period: Duration = .seconds(1)
    var timeout: Duration = .seconds(2)
    /// Failed probes in a row before the node stops serving (a loaded machine can delay one).
    var failuresToStall = 2
    let logger: Logger

    private static let stalled = Gauge(label: "edgenode_data_plane_stalled")
    private static let stalls = Counter(label: "edgenode_data_plane_stalls_total")

    func run() async throws {
        precondition(failuresToStall > 0)
        Self.stalled.record(0)
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                if await loopsRespond(timeout) {
                    failures = 0
                    if state.noteDataPlane(answering: true) {
                        Self.stalled.record(0)
                        logger.notice("the data plane's event loops answer again; serving viewers")
                    }
                } else {
                    failures += 1
                    if failures >= failuresToStall, state.noteDataPlane(answering: false) {
                        Self.stalled.record(1)
                        Self.stalls.increment()
                        logger.critical("the data plane's event loops stopped answering; announcing this node as not serving", metadata: [
                            "probes_failed": "\(failures)", "timeout": "\(timeout)"])
                    }
                }
                guard (try? await Task.sleep(for: period)) != nil else { return }
            }
        }
    }
}
