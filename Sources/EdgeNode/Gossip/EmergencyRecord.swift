import Foundation
import Gossip
import Manifest

/// The emergency flag as a gossip cluster record: key `emergency`, epoch the flag's, value the whole signed note.
public enum EmergencyRecord {
    public static let key = "emergency"

    /// The record carrying `note` (a signed flag of `flag`).
    public static func record(_ flag: EmergencyFlag, note: SignedNote) -> ClusterRecord {
        ClusterRecord(key: key, epoch: flag.epoch, value: Array(note.rendered.utf8))
    }

    /// The flag a record carries (nil when it is not a well-formed flag note; the signature is not checked here: records
    /// are checked on the way in).
    public static func flag(_ record: ClusterRecord) -> EmergencyFlag? {
        guard let note = try? SignedNote(parsing: String(decoding: record.value, as: UTF8.self)) else { return nil }
        return try? EmergencyFlag(text: note.text)
    }

    /// The names of the keys whose signature lines a flag's signed note carries.
    static func signers(_ note: [UInt8]) -> [String] {
        (try? SignedNote(parsing: String(decoding: note, as: UTF8.self)))?.signatures.map(\.name) ?? []
    }

    /// The gossip validator: the only record a node takes is an emergency flag that passes `check` (signed by an
    /// operator key, this fleet, not issued in the future) and whose record epoch is the flag's. Anything else — an
    /// unknown key, a forged, malformed or other-fleet flag — is refused (counted as a rejected record) and never
    /// forwarded. Ordering (a replayed or older epoch) is the records' own rule: it never supersedes the one held.
    public static func validator(_ check: EmergencyFlagCheck, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) })
        -> GossipCore<SystemRandomNumberGenerator>.RecordValidator {
        validator(current: { check }, now: now)
    }

    /// `validator` with the check in force at each record (operator keys change with a reload).
    static func validator(current: @escaping @Sendable () -> EmergencyFlagCheck?,
                          now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) })
        -> GossipCore<SystemRandomNumberGenerator>.RecordValidator {
        { record in
            guard record.key == key, record.signature.isEmpty, let check = current(),
                  case .success(let flag) = check.check(record.value, held: nil, now: now(), fromGossip: true) else { return false }
            return flag.epoch == record.epoch
        }
    }
}
