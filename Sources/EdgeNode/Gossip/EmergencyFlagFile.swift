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

/// Writes every newer emergency flag gossip takes to the node's `EmergencyFlagFile`.
final class EmergencyFlagKeeper: Service {
    private let file: EmergencyFlagFile
    private let gossip: GossipService
    private let logger: Logger

    init(file: EmergencyFlagFile, gossip: GossipService, logger: Logger) {
        self.file = file
        self.gossip = gossip
        self.logger = logger
    }

    func run() async throws {
        var kept = file.load(logger: logger)?.epoch
        for await view in gossip.changes().cancelOnGracefulShutdown() {
            guard let record = view.records.first(where: { $0.key == EmergencyRecord.key }) else { continue }
            if let kept, record.epoch <= kept { continue }
            do {
                try file.save(ClusterRecord(key: record.key, epoch: record.epoch, value: record.value))
                kept = record.epoch
                logger.info("emergency flag kept", metadata: ["epoch": "\(record.epoch)", "path": "\(file.path)"])
            } catch {
                logger.error("cannot keep the emergency flag", metadata: ["path": "\(file.path)", "reason": "\(error)"])
            }
        }
    }
}
