import Dispatch
import Logging
import Manifest
import Metrics
import NIOConcurrencyHelpers
import Gossip

/// Emergency broadcast mode in `/metrics`: the flag in force (mode, epoch, issue time, the operator keys that signed
/// it), flips, flags accepted and
/// refused on `POST /fleet/emergency`, and viewers served in degraded mode (emergency on, no mesh or satellite node
/// healthy). Degraded service is also logged, at most once per `degradedLogInterval` with the count since.
final class EmergencyMetrics: Sendable {
    private let mode = Gauge(label: "edgenode_emergency_mode")
    private let epoch = Gauge(label: "edgenode_emergency_epoch")
    private let issuedAt = Gauge(label: "edgenode_emergency_issued_timestamp_seconds")
    private let flips = Counter(label: "edgenode_emergency_flips_total")
    private let accepted = Counter(label: "edgenode_emergency_flags_accepted_total")
    private let degraded = Counter(label: "edgenode_emergency_degraded_responses_total")
    private let degradedLog = NIOLockedValueBox<(lastLogged: UInt64?, since: Int)>((nil, 0))
    /// The operator keys that signed the flag shown now (`edgenode_emergency_signed_by{signer}` is 1 for them).
    private let signers = NIOLockedValueBox<[String]>([])
    private let logger: Logger
    static let degradedLogInterval: UInt64 = 10_000_000_000

    init(logger: Logger) {
        self.logger = logger
    }

    /// The flag in force is now `flag`, signed by `signedBy`; `flipped`: the mode changed.
    func inForce(_ flag: EmergencyFlag, signedBy: [String], flipped: Bool) {
        let previous = signers.withLockedValue { held in
            defer { held = signedBy }
            return held
        }
        for signer in previous where !signedBy.contains(signer) {
            Gauge(label: "edgenode_emergency_signed_by", dimensions: [("signer", signer)]).record(0)
        }
        for signer in signedBy {
            Gauge(label: "edgenode_emergency_signed_by", dimensions: [("signer", signer)]).record(1)
        }
        mode.record(flag.on ? 1 : 0)
        epoch.record(Int64(clamping: flag.epoch))
        issuedAt.record(flag.issuedAt)
        if flipped { flips.increment() }
    }

    func flagAccepted() {
        accepted.increment()
    }

    /// A posted flag was refused, for the reason `label` (`EmergencyFlagCheck.Refusal.label`, or this endpoint's own).
    func flagRefused(_ label: String) {
        Counter(label: "edgenode_emergency_flags_refused_total", dimensions: [("reason", label)]).increment()
    }

    /// A viewer was served here in emergency mode because no mesh or satellite node is healthy.
    func servedDegraded() {
        degraded.increment()
        let now = DispatchTime.now().uptimeNanoseconds
        let report = degradedLog.withLockedValue { state -> Int? in
            state.since += 1
            if let last = state.lastLogged, now.elapsed(since: last) < Self.degradedLogInterval { return nil }
            defer { state = (now, 0) }
            return state.since
        }
        if let report {
            logger.warning("emergency mode is on but no mesh or satellite node is healthy: serving viewers here",
                           metadata: ["degraded-responses": "\(report)"])
        }
    }
}
