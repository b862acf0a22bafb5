import Manifest
import NodeTLS
import Routing
import Synchronization

/// The parts of the fleet's configuration a node's data plane reads for every request and a reload replaces while
/// it serves (`NodeRuntime.reload`): how viewers are routed (nodes, zones, routing settings), which hosts are the
/// fleet's, how a fleet node's request is recognised, and which operator keys may sign an emergency flag. A request reads one consistent snapshot.
final class LiveFleet: Sendable {
    struct Snapshot: Sendable {
        /// Places viewers and redirects their playlist requests (nodes that gossip).
        var router: ViewerRouter?
        /// The fleet's node addresses, which may read `/cluster` besides loopback.
        var fleetHosts: Set<IPAddress>
        /// How a posted or gossiped emergency flag is checked; nil: the node takes none.
        var emergencyCheck: EmergencyFlagCheck?
        /// Who may read `/metrics`, `/cluster` and the status page's data besides loopback (`[operators]`).
        var operators = OperatorAccess.loopbackOnly
        /// Checks the proof fleet nodes' fills carry, and signs this node's (nil without a fleet keyring).
        var fleetAuth: FleetRequestAuth?
        /// Where this node posts its delivery reports: the control API of the fleet's origin, over TLS when that
        /// origin has a certificate (verified against `[fleet] tls_ca`, or the system's roots without one).
        var control: ControlTarget?
    }

    /// The control API's address and, when it speaks HTTPS, the trust its certificate is checked against.
    struct ControlTarget: Sendable {
        var address: SocketAddressSpec
        var tls: ClientTLS?
    }

    private let current: Mutex<Snapshot>

    init(_ snapshot: Snapshot) { current = Mutex(snapshot) }

    /// The configuration in force.
    var snapshot: Snapshot { current.withLock { $0 } }

    /// Puts `snapshot` in force for every request that starts from now on.
    func replace(_ snapshot: Snapshot) { current.withLock { $0 = snapshot } }
}
