import Crypto
import struct Foundation.Data

/// The signature algorithm byte of C2SP signed-note keys for Ed25519.
let ed25519AlgorithmByte: UInt8 = 0x01

/// The 4-byte C2SP key id: the first four bytes of SHA-256(name || 0x0A || 0x01 || public key), big-endian.
func noteKeyID(name: String, publicKey: Curve25519.Signing.PublicKey) -> UInt32 {
    var hasher = SHA256()
    hasher.update(data: Array(name.utf8) + [0x0A, ed25519AlgorithmByte])
    hasher.update(data: publicKey.rawRepresentation)
    let digest = Array(hasher.finalize())
    return digest[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
}

func validateKeyName(_ name: String) throws(NoteError) {
    let ok = !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
        scalar.value > 0x20 && scalar.value != 0x7f && scalar != "+"
    }
    guard ok else { throw .invalidName(name) }
}

/// An Ed25519 signing key in the C2SP signed-note encoding `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01||seed)>`.
public struct NoteSigner: Sendable {
    /// The key name, printed in signature lines.
    public let name: String
    /// The private key.
    public let privateKey: Curve25519.Signing.PrivateKey
    /// The 4-byte key id.
    public var keyID: UInt32 { noteKeyID(name: name, publicKey: privateKey.publicKey) }

    /// Wraps an existing key.
    public init(name: String, privateKey: Curve25519.Signing.PrivateKey) throws(NoteError) {
        try validateKeyName(name)
        self.name = name
        self.privateKey = privateKey
    }

    /// A fresh random key.
    public static func generate(name: String) throws(NoteError) -> NoteSigner {
        try NoteSigner(name: name, privateKey: Curve25519.Signing.PrivateKey())
    }

    /// Parses the text encoding, checking the algorithm, the key length and the key id.
    public init(encoded: String) throws(NoteError) {
        let text = encoded.trimmingSuffix(while: { $0 == "\n" || $0 == "\r" })
        // The base64 key may itself contain '+', so split only at the first four.
        let parts = text.split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY" else {
            throw .malformedKey("expected PRIVATE+KEY+<name>+<id>+<key>")
        }
        guard let raw = Base64.decode(parts[4]), raw.count == 33, raw[0] == ed25519AlgorithmByte else {
            throw .malformedKey("expected a base64 Ed25519 seed prefixed by algorithm byte 0x01")
        }
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw[1...]) else {
            throw .malformedKey("invalid Ed25519 seed")
        }
        try self.init(name: parts[2], privateKey: key)
        guard parts[3].lowercased() == String(format8: keyID) else {
            throw .malformedKey("key id \(parts[3]) does not match the key")
        }
    }

    /// The text encoding (without a trailing newline).
    public var encoded: String {
        "PRIVATE+KEY+\(name)+\(String(format8: keyID))+\(Base64.encode([ed25519AlgorithmByte] + Array(privateKey.rawRepresentation)))"
    }

    /// The matching verifier.
    public var verifier: NoteVerifier { NoteVerifier(name: name, publicKey: privateKey.publicKey) }

    /// Signs a note body (which must end with a newline) and returns the whole signed note.
    public func sign(text: String) throws(NoteError) -> SignedNote {
        try SignedNote.validateText(text)
        guard let signature = try? privateKey.signature(for: Data(text.utf8)) else {
            throw .badSignature(name: name)
        }
        return SignedNote(text: text, signatures: [.init(name: name, keyID: keyID, signature: Array(signature))])
    }
}

/// An Ed25519 verifier key in the C2SP signed-note encoding `<name>+<hex key id>+<base64(0x01||public key)>`.
public struct NoteVerifier: Sendable, Equatable {
    /// The key name.
    public let name: String
    /// The public key.
    public let publicKey: Curve25519.Signing.PublicKey
    /// The 4-byte key id.
    public var keyID: UInt32 { noteKeyID(name: name, publicKey: publicKey) }

    init(name: String, publicKey: Curve25519.Signing.PublicKey) {
        self.name = name
        self.publicKey = publicKey
    }

    /// Parses the text encoding, checking the algorithm, the key length and the key id.
    public init(encoded: String) throws(NoteError) {
        let text = encoded.trimmingSuffix(while: { $0 == "\n" || $0 == "\r" })
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { throw .malformedKey("expected <name>+<id>+<key>") }
        try validateKeyName(parts[0])
        guard let raw = Base64.decode(parts[2]), raw.count == 33, raw[0] == ed25519AlgorithmByte,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw[1...])
        else { throw .malformedKey("expected a base64 Ed25519 public key prefixed by algorithm byte 0x01") }
        self.init(name: parts[0], publicKey: key)
        guard parts[1].lowercased() == String(format8: keyID) else {
            throw .malformedKey("key id \(parts[1]) does not match the key")
        }
    }

    /// The text encoding (without a trailing newline).
    public var encoded: String {
        "\(name)+\(String(format8: keyID))+\(Base64.encode([ed25519AlgorithmByte] + Array(publicKey.rawRepresentation)))"
    }

    /// The key id as 8 hex digits.
    public var keyIDHex: String { String(format8: keyID) }

    public static func == (lhs: NoteVerifier, rhs: NoteVerifier) -> Bool {
        lhs.name == rhs.name && lhs.publicKey.rawRepresentation == rhs.publicKey.rawRepresentation
    }
}

extension String {
    /// Eight lowercase hex digits of a 32-bit value.
    init(format8 value: UInt32) {
        self = Hex.encode([UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)])
    }

    func trimmingSuffix(while predicate: (Character) -> Bool) -> String {
        var result = self
        while let last = result.last, predicate(last) { result.removeLast() }
        return result
    }
}
