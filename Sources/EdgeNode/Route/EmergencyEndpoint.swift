import Foundation
import Gossip
import HTTPSemantics
import Logging
import Manifest
import NIOCore

/// `/fleet/emergency` on every node's viewer-facing port. `POST` takes a signed emergency flag: the signature is the
/// authentication (an operator can reach whichever node still answers when the origin is gone), checked against the
/// fleet's operator keys, with the fleet name, an epoch above the one held and an issue time within the skew; then
/// published through gossip. Each refusal is answered with its reason and status and counted; a refused flag never
/// reaches gossip. `GET` answers the flag in force as JSON (`EmergencyStatus`), the signed note included, so that
/// `edgenode emergency` can read the current epoch from any reachable node.
struct EmergencyEndpoint: Sendable {
    static let path = EmergencyStatus.path

    let state: NodeState
    /// Holds the check in force (the fleet's name and operator keys, replaced by a reload).
    let fleet: LiveFleet
    let metrics: EmergencyMetrics
    let logger: Logger

    /// The status a refusal is answered with.
    static func status(for refusal: EmergencyFlagCheck.Refusal) -> Int {
        switch refusal {
        case .tooLarge: 413
        case .malformed: 400
        case .unknownKey, .badSignature, .unverifiedSigner, .otherFleet: 403
        case .notNewer: 409
        case .clockSkew: 422
        }
    }

    /// `GET /fleet/emergency`.
    func current(isHead: Bool) -> ResponsePlan {
        Self.json(EmergencyStatus(node: state.name, view: state.cluster), isHead: isHead)
    }

    /// `POST /fleet/emergency` with `body` (at most the kept part; `bodyBytes` all that arrived): the answer, once
    /// gossip has taken the flag or it was refused.
    func accept(body: ByteBuffer?, bodyBytes: Int, peer: SocketAddress?, on eventLoop: EventLoop) -> EventLoopFuture<ResponsePlan> {
        let note = body.map { Array($0.readableBytesView) } ?? []
        guard bodyBytes <= EmergencyFlag.maximumNoteBytes else { return eventLoop.makeSucceededFuture(refuse(.tooLarge(bytes: bodyBytes))) }
        guard let check = fleet.snapshot.emergencyCheck, !check.operatorKeys.isEmpty else {
            metrics.flagRefused("no_operator_keys")
            return eventLoop.makeSucceededFuture(ResponsePlanner.status(403, "refused: this fleet lists no operator_keys, so emergency flags cannot be used"))
        }
        let held = state.cluster?.records.first { $0.key == EmergencyRecord.key }?.epoch
        let flag: EmergencyFlag
        switch check.check(note, held: held, now: Int64(Date().timeIntervalSince1970)) {
        case .failure(let refusal):
            return eventLoop.makeSucceededFuture(refuse(refusal))
        case .success(let checked):
            flag = checked
        }
        let record = ClusterRecord(key: EmergencyRecord.key, epoch: flag.epoch, value: note)
        guard let published = state.publish(record) else {
            metrics.flagRefused("not_gossiping")
            return eventLoop.makeSucceededFuture(ResponsePlanner.status(503, "refused: this node does not gossip (yet), so it cannot spread a flag"))
        }
        let (metrics, logger, state) = (metrics, logger, state)
        return published.hop(to: eventLoop).map { taken in
            guard taken else {
                let now = state.cluster?.records.first { $0.key == EmergencyRecord.key }?.epoch ?? flag.epoch
                return refuse(.notNewer(epoch: flag.epoch, held: now))
            }
            metrics.flagAccepted()
            logger.notice("emergency flag accepted", metadata: [
                "mode": "\(flag.on ? "on" : "off")", "epoch": "\(flag.epoch)", "reason": "\(flag.reason)",
                "from": "\(peer?.logDescription ?? "unknown")"])
            return Self.json(EmergencyStatus(node: state.name, flag: flag, signers: EmergencyRecord.signers(note), note: note), isHead: false)
        }.recover { error in
            metrics.flagRefused("not_gossiping")
            return ResponsePlanner.status(503, "refused: gossip stopped before it took the flag")
        }
    }

    private func refuse(_ refusal: EmergencyFlagCheck.Refusal) -> ResponsePlan {
        metrics.flagRefused(refusal.label)
        return ResponsePlanner.status(Self.status(for: refusal), "refused: \(refusal)")
    }

    private static func json(_ status: EmergencyStatus, isHead: Bool) -> ResponsePlan {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let json = try? encoder.encode(status) else { return ResponsePlanner.status(500, "cannot encode the answer", isHead: isHead) }
        return ResponsePlan(status: 200, fields: [.init("Content-Type", "application/json"), .init("Cache-Control", "no-store")],
                            body: .text(String(decoding: json, as: UTF8.self)), sendsBody: !isHead)
    }
}

/// The JSON of `GET /fleet/emergency` (and of an accepted `POST`): the flag a node holds.
public struct EmergencyStatus: Codable, Sendable, Equatable {
    /// Where every node answers it.
    public static let path = "/fleet/emergency"

    /// The node that answered.
    public var node: String
    /// `on` or `off` (`off` also when no flag was ever published: epoch 0).
    public var mode: String
    public var epoch: UInt64
    /// Names of the operator keys that signed it.
    public var signedBy: [String]
    /// When the operator issued it (Unix seconds).
    public var issuedAt: Int64?
    public var reason: String?
    /// The signed note itself, as posted.
    public var note: String?

    init(node: String, flag: EmergencyFlag, signers: [String], note: [UInt8]) {
        self.node = node
        mode = flag.on ? "on" : "off"
        epoch = flag.epoch
        signedBy = signers
        issuedAt = flag.issuedAt
        reason = flag.reason
        self.note = String(decoding: note, as: UTF8.self)
    }

    init(node: String, view: ClusterView?) {
        if let held = view?.emergency {
            self.init(node: node, flag: held.flag, signers: held.signers, note: held.note)
        } else {
            self.init(node: node)
        }
    }

    /// No flag was ever published.
    private init(node: String) {
        self.node = node
        mode = "off"
        epoch = 0
        signedBy = []
    }
}
