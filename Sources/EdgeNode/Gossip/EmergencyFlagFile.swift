import Foundation
import Gossip
import Logging
import Manifest
import ServiceLifecycle

/// Every node keeps the latest emergency flag it took in `<content>/.emergency.note` (hidden names are never served
/// nor cached), written atomically, so that a restarted node comes back in the right mode even when it is the only
/// one up. The file is checked like any flag from the wire before it is used: it is not trusted because this node
/// wrote it once.
public struct EmergencyFlagFile: Sendable {
    public let path: String
    let check: EmergencyFlagCheck

    public init(content: String, check: EmergencyFlagCheck) {
        path = content + "/.emergency.note"
        self.check = check
    }

    /// The kept flag as a gossip record, if there is one and it still passes the checks; a file that does not is
    /// logged and ignored.
    public func load(logger: Logger) -> ClusterRecord? {
        let data: Data
        do {
            data = try AtomicFile.read(path, limit: EmergencyFlag.maximumNoteBytes)
        } catch .missing {
            return nil
        } catch {
            logger.warning("ignoring the kept emergency flag", metadata: ["path": "\(path)", "reason": "\(error)"])
            return nil
        }
        switch check.check(Array(data), held: nil, now: Int64(Date().timeIntervalSince1970), fromGossip: true) {
        case .success(let flag):
            return ClusterRecord(key: EmergencyRecord.key, epoch: flag.epoch, value: Array(data))
        case .failure(let refusal):
            logger.warning("ignoring the kept emergency flag", metadata: ["path": "\(path)", "reason": "\(refusal)"])
            return nil
        }
    }

    /// Keeps `record` (an emergency record gossip took), replacing the file atomically.
    public func save(_ record: ClusterRecord) throws(StorageError) {
        try AtomicFile.write(Data(record.value), to: path, mode: 0o644, replace: true)
    }
}

/// Follows the emergency flag gossip holds: every newer one is written to the node's `EmergencyFlagFile`, set in its
/// `NodeState` (which routing reads) and in `/metrics`, and each flip of the mode is logged.
final class EmergencyFlagKeeper: Service {
    private let file: EmergencyFlagFile
    private let gossip: GossipService
    private let state: NodeState
    private let metrics: EmergencyMetrics
    private let logger: Logger
    /// The flag the node loaded from its file at start, already checked.
    private let loaded: ClusterRecord?

    init(file: EmergencyFlagFile, loaded: ClusterRecord?, gossip: GossipService, state: NodeState, logger: Logger) {
        self.file = file
        self.loaded = loaded
        self.gossip = gossip
        self.state = state
        self.logger = logger
        metrics = EmergencyMetrics(logger: logger)
    }

    func run() async throws {
        var kept = loaded
        var mode = kept.flatMap(EmergencyRecord.flag).map(\.on)
        if let kept, let flag = EmergencyRecord.flag(kept) { metrics.inForce(flag, signedBy: EmergencyRecord.signers(kept.value), flipped: false) }
        for await view in gossip.changes().cancelOnGracefulShutdown() {
            guard let record = view.records.first(where: { $0.key == EmergencyRecord.key }), let held = view.emergency else { continue }
            if let kept, record.epoch <= kept.epoch { continue }
            let flipped = held.flag.on != (mode ?? false)
            state.noteEmergency(on: held.flag.on)
            state.emergencyHistory.append(EmergencyEvent(time: Date().timeIntervalSince1970, mode: held.flag.on ? "on" : "off",
                                                         epoch: held.flag.epoch, signedBy: held.signers, reason: held.flag.reason))
            metrics.inForce(held.flag, signedBy: held.signers, flipped: flipped)
            mode = held.flag.on
            let metadata: Logger.Metadata = ["epoch": "\(held.flag.epoch)", "signed-by": "\(held.signers.joined(separator: ","))",
                                             "issued-at": "\(held.flag.issuedAt)", "reason": "\(held.flag.reason)"]
            if flipped {
                logger.notice("emergency broadcast mode \(held.flag.on ? "ON: viewers move to mesh and satellite nodes" : "OFF: normal routing")",
                              metadata: metadata)
            } else {
                logger.info("emergency flag renewed, mode unchanged", metadata: metadata)
            }
            let newer = ClusterRecord(key: record.key, epoch: record.epoch, value: record.value)
            kept = newer
            do {
                try file.save(newer)
            } catch {
                logger.error("cannot keep the emergency flag", metadata: ["path": "\(file.path)", "reason": "\(error)"])
            }
        }
    }
}
