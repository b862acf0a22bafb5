/// The emergency broadcast flag (issue 13): a C2SP signed note whose body is six lines,
///
///     edgenode.emergency
///     <fleet name>
///     <epoch: decimal, strictly increasing from flip to flip>
///     on | off
///     <issued: Unix seconds, decimal>
///     <reason: one line of printable text>
///
/// signed with an operator's Ed25519 key. Numbers are canonical decimals (no sign, no leading zeros), so one flag has
/// one text and one signature input.
public struct EmergencyFlag: Sendable, Equatable {
    /// The note's origin line.
    public static let origin = "edgenode.emergency"
    /// The longest reason accepted, in bytes.
    public static let maximumReasonBytes = 200
    /// The largest signed flag accepted, in bytes: six short lines and a few signature lines; it travels whole as a
    /// gossip cluster record's value, whose limit this is.
    public static let maximumNoteBytes = 512
    /// The highest epoch a flag may carry (2^53, exact in every JSON reader): far above any number of flips, and far
    /// enough below the 64-bit bound that the fleet can always flip again — a flag at the last representable epoch
    /// would lock the mode in force for good.
    public static let maximumEpoch: UInt64 = 1 << 53

    public let fleet: String
    public let epoch: UInt64
    /// Emergency mode on (`on`) or back to normal (`off`).
    public let on: Bool
    /// When the operator issued it (Unix seconds).
    public let issuedAt: Int64
    public let reason: String

    /// A flag; the fleet and the reason must be single non-empty lines of printable text, the reason at most
    /// `maximumReasonBytes`.
    public init(fleet: String, epoch: UInt64, on: Bool, issuedAt: Int64, reason: String) throws(NoteError) {
        guard Self.isPrintableLine(fleet) else { throw .malformedNote("fleet name must be one line of printable text") }
        guard Self.isPrintableLine(reason), reason.utf8.count <= Self.maximumReasonBytes else {
            throw .malformedNote("reason must be one line of printable text of at most \(Self.maximumReasonBytes) bytes")
        }
        guard issuedAt >= 0 else { throw .malformedNote("issue time must not be negative") }
        guard epoch <= Self.maximumEpoch else { throw .malformedNote("epoch \(epoch) is above \(Self.maximumEpoch), the highest a flag may carry") }
        self.fleet = fleet
        self.epoch = epoch
        self.on = on
        self.issuedAt = issuedAt
        self.reason = reason
    }

    /// Parses a note body.
    public init(text: String) throws(NoteError) {
        guard text.hasSuffix("\n") else { throw .malformedNote("flag must end with a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count == 6 else { throw .malformedNote("a flag has 6 lines (origin, fleet, epoch, on|off, issued, reason), not \(lines.count)") }
        guard lines[0] == Self.origin else { throw .malformedNote("origin line is \"\(lines[0].prefix(64))\", not \(Self.origin)") }
        guard let epoch = Self.canonicalNumber(lines[2]) else { throw .malformedNote("epoch line is not a canonical decimal number") }
        guard lines[3] == "on" || lines[3] == "off" else { throw .malformedNote("mode line must be on or off") }
        guard let issued = Self.canonicalNumber(lines[4]), issued <= UInt64(Int64.max) else {
            throw .malformedNote("issue time line is not a canonical decimal number of seconds")
        }
        try self.init(fleet: lines[1], epoch: epoch, on: lines[3] == "on", issuedAt: Int64(issued), reason: lines[5])
    }

    /// The note body.
    public var text: String {
        [Self.origin, fleet, String(epoch), on ? "on" : "off", String(issuedAt), reason].map { $0 + "\n" }.joined()
    }

    /// The flag signed by `signer`.
    public func signed(by signer: NoteSigner) throws(NoteError) -> SignedNote {
        try signer.sign(text: text)
    }

    static func canonicalNumber(_ line: String) -> UInt64? {
        guard let value = UInt64(line), String(value) == line else { return nil }
        return value
    }

    static func isPrintableLine(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
    }
}

/// Whether a node takes a signed emergency flag: what `POST /fleet/emergency` and the gossip validator both apply.
public struct EmergencyFlagCheck: Sendable {
    /// Why a flag was refused (each counted under its own label).
    public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        case tooLarge(bytes: Int)
        case malformed(String)
        /// No signature from any operator key of the fleet.
        case unknownKey
        /// A signature line names an operator key but does not verify.
        case badSignature(key: String)
        /// A signature line is not from an operator key of the fleet (only verified operators may be named).
        case unverifiedSigner
        case otherFleet(String)
        /// The epoch is not above the one held (a replay, or an older flag).
        case notNewer(epoch: UInt64, held: UInt64)
        /// Issued further from this node's clock than the allowed skew.
        case clockSkew(seconds: Int64)

        /// A short stable label for metrics.
        public var label: String {
            switch self {
            case .tooLarge: "too_large"
            case .malformed: "malformed"
            case .unknownKey: "unknown_key"
            case .badSignature: "bad_signature"
            case .unverifiedSigner: "unverified_signer"
            case .otherFleet: "other_fleet"
            case .notNewer: "not_newer"
            case .clockSkew: "clock_skew"
            }
        }

        public var description: String {
            switch self {
            case .tooLarge(let bytes): "flag of \(bytes) bytes is larger than \(EmergencyFlag.maximumNoteBytes)"
            case .malformed(let why): "malformed flag: \(why)"
            case .unknownKey: "flag is not signed by any operator key of this fleet"
            case .badSignature(let key): "signature from operator key \"\(key)\" does not verify"
            case .unverifiedSigner: "flag carries a signature line that is not from an operator key of this fleet, or one twice"
            case .otherFleet(let fleet): "flag is for fleet \"\(fleet.prefix(64))\", not this one"
            case .notNewer(let epoch, let held): "flag epoch \(epoch) is not above the epoch held, \(held)"
            case .clockSkew(let seconds): "flag was issued \(seconds) s from this node's clock, beyond the allowed skew"
            }
        }
    }

    public let fleet: String
    public let operatorKeys: [NoteVerifier]
    public let maximumSkewSeconds: Int64

    public init(fleet: String, operatorKeys: [NoteVerifier], maximumSkewSeconds: Int64 = 300) {
        self.fleet = fleet
        self.operatorKeys = operatorKeys
        self.maximumSkewSeconds = maximumSkewSeconds
    }

    /// The flag in `note` if this node must take it: bounded, well formed, signed by an operator key and by nobody
    /// else (every signature line verifies against an operator key), for this fleet,
    /// newer than the epoch held (`held`, nil when none), and issued within the skew of `now` (Unix seconds). The
    /// checks run in that order, so a forger learns nothing from a later one. `fromGossip`: the flag was signed and
    /// checked when it entered the fleet and may have been issued long ago (a node back from a partition or a
    /// restart must still converge on it), so only a flag issued in the future beyond the skew is refused.
    public func check(_ note: [UInt8], held: UInt64?, now: Int64, fromGossip: Bool = false) -> Result<EmergencyFlag, Refusal> {
        guard note.count <= EmergencyFlag.maximumNoteBytes else { return .failure(.tooLarge(bytes: note.count)) }
        guard let text = String(validating: note, as: UTF8.self) else { return .failure(.malformed("not UTF-8")) }
        let signed: SignedNote
        let flag: EmergencyFlag
        do {
            signed = try SignedNote(parsing: text)
            flag = try EmergencyFlag(text: signed.text)
        } catch {
            return .failure(.malformed(error.description))
        }
        var verified = false
        for key in operatorKeys where signed.signatures.contains(where: { $0.name == key.name && $0.keyID == key.keyID }) {
            do {
                try signed.verify(with: key)
                verified = true
            } catch {
                return .failure(.badSignature(key: key.name))
            }
        }
        guard verified else { return .failure(.unknownKey) }
        // Every line names a key that verified, once: whoever a status shows as a signer really signed.
        guard signed.signatures.allSatisfy({ line in operatorKeys.contains { $0.name == line.name && $0.keyID == line.keyID } }),
              Set(signed.signatures.map { "\($0.name) \($0.keyID)" }).count == signed.signatures.count else {
            return .failure(.unverifiedSigner)
        }
        guard flag.fleet == fleet else { return .failure(.otherFleet(flag.fleet)) }
        if let held, flag.epoch <= held { return .failure(.notNewer(epoch: flag.epoch, held: held)) }
        let skew = flag.issuedAt.subtractingReportingOverflow(now)
        let limit = max(0, maximumSkewSeconds)
        guard !skew.overflow, skew.partialValue <= limit, fromGossip || skew.partialValue >= -limit else {
            return .failure(.clockSkew(seconds: skew.overflow ? Int64.max : skew.partialValue))
        }
        return .success(flag)
    }
}
