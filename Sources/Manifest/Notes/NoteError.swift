/// Why a key, signed note or checkpoint was rejected.
public enum NoteError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformedKey(String)
    case malformedNote(String)
    case malformedCheckpoint(String)
    case unknownKey(name: String)
    case badSignature(name: String)
    case invalidName(String)

    public var description: String {
        switch self {
        case .malformedKey(let why): "malformed key: \(why)"
        case .malformedNote(let why): "malformed signed note: \(why)"
        case .malformedCheckpoint(let why): "malformed checkpoint: \(why)"
        case .unknownKey(let name): "note carries no signature from key \"\(name)\" with the expected key id"
        case .badSignature(let name): "signature from key \"\(name)\" does not verify"
        case .invalidName(let name): "invalid key name \"\(name)\": must be non-empty, printable, without spaces or '+'"
        }
    }
}
