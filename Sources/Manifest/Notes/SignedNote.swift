import struct Foundation.Data

/// A C2SP signed note: a text body of newline-terminated lines, a blank line, then one or more signature lines
/// `— <name> <base64(key id || signature)>`.
public struct SignedNote: Sendable, Equatable {
    /// One signature line.
    public struct Signature: Sendable, Equatable {
        /// Key name.
        public let name: String
        /// 4-byte key id.
        public let keyID: UInt32
        /// Raw Ed25519 signature (64 bytes).
        public let signature: [UInt8]
    }

    /// Upper bound on a note's size; anything larger is rejected before parsing.
    public static let maximumSize = 64 * 1024

    /// The signed body, ending in a newline.
    public let text: String
    /// The signature lines, in order.
    public let signatures: [Signature]

    init(text: String, signatures: [Signature]) {
        self.text = text
        self.signatures = signatures
    }

    static func validateText(_ text: String) throws(NoteError) {
        guard !text.isEmpty, text.hasSuffix("\n") else { throw .malformedNote("text must end with a newline") }
        guard !text.contains("\n\n") else { throw .malformedNote("text must not contain a blank line") }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) else {
            throw .malformedNote("text contains a control character")
        }
    }

    /// Parses a whole signed note.
    public init(parsing note: String) throws(NoteError) {
        guard note.utf8.count <= Self.maximumSize else { throw .malformedNote("larger than \(Self.maximumSize) bytes") }
        guard let split = note.range(of: "\n\n") else { throw .malformedNote("no blank line before signatures") }
        let text = String(note[..<split.lowerBound]) + "\n"
        try Self.validateText(text)
        let rest = note[split.upperBound...]
        guard rest.hasSuffix("\n") else { throw .malformedNote("signature block must end with a newline") }
        var signatures: [Signature] = []
        for line in rest.dropLast().split(separator: "\n", omittingEmptySubsequences: false) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0] == "\u{2014}" else {
                throw .malformedNote("signature line must be '— <name> <signature>'")
            }
            guard let raw = Base64.decode(String(fields[2])), raw.count > 4 else {
                throw .malformedNote("signature is not base64 of key id and signature")
            }
            let keyID = raw[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            signatures.append(Signature(name: String(fields[1]), keyID: keyID, signature: Array(raw[4...])))
        }
        guard !signatures.isEmpty else { throw .malformedNote("no signature lines") }
        self.init(text: text, signatures: signatures)
    }

    /// The note as text: body, blank line, signature lines.
    public var rendered: String {
        var out = text + "\n"
        for signature in signatures {
            let keyID = [UInt8(signature.keyID >> 24), UInt8(signature.keyID >> 16 & 0xff),
                         UInt8(signature.keyID >> 8 & 0xff), UInt8(signature.keyID & 0xff)]
            out += "\u{2014} \(signature.name) \(Base64.encode(keyID + signature.signature))\n"
        }
        return out
    }

    /// Checks that `verifier` signed the body.
    public func verify(with verifier: NoteVerifier) throws(NoteError) {
        guard let signature = signatures.first(where: { $0.name == verifier.name && $0.keyID == verifier.keyID }) else {
            throw .unknownKey(name: verifier.name)
        }
        guard verifier.publicKey.isValidSignature(Data(signature.signature), for: Data(text.utf8)) else {
            throw .badSignature(name: verifier.name)
        }
    }
}
