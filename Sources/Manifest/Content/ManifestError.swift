/// Why a manifest, a file or a chunk failed verification. Every case names what is wrong.
public enum ManifestError: Error, Equatable, Sendable, CustomStringConvertible {
    case unsupportedVersion(Int)
    case malformed(String)
    case invalidIdentifier(field: String, value: String)
    case invalidPath(String)
    case filesNotSortedOrDuplicated(String)
    case badChunkList(path: String, reason: String)
    case signature(NoteError)
    case checkpointMismatch(String)
    case rootMismatch(signed: String, computed: String)
    case unknownFile(String)
    case sizeMismatch(path: String, expected: Int64, actual: Int64)
    case chunkMismatch(path: String, chunk: Int, offset: Int64)
    case chunkOutOfRange(path: String, chunk: Int)
    case proof(path: String, MerkleProofError)

    public var description: String {
        switch self {
        case .unsupportedVersion(let v): "unsupported manifest version \(v)"
        case .malformed(let why): "malformed manifest: \(why)"
        case .invalidIdentifier(let field, let value):
            "invalid \(field) \"\(value)\": use 1-128 of A-Z a-z 0-9 . _ - (not starting with '.')"
        case .invalidPath(let path): "invalid file path \"\(path)\": must be relative, without '..', '.', empty parts or control characters"
        case .filesNotSortedOrDuplicated(let path): "file list is not strictly sorted by path at \"\(path)\""
        case .badChunkList(let path, let reason): "\(path): chunk list invalid: \(reason)"
        case .signature(let error): "manifest signature: \(error)"
        case .checkpointMismatch(let why): "signed checkpoint does not match the manifest: \(why)"
        case .rootMismatch(let signed, let computed): "Merkle root mismatch: signed \(signed), computed \(computed)"
        case .unknownFile(let path): "\(path): not listed in the manifest"
        case .sizeMismatch(let path, let expected, let actual): "\(path): size is \(actual) bytes, manifest says \(expected)"
        case .chunkMismatch(let path, let chunk, let offset): "\(path): chunk \(chunk) (offset \(offset)) does not match its hash"
        case .chunkOutOfRange(let path, let chunk): "\(path): chunk \(chunk) does not exist"
        case .proof(let path, let error): "\(path): inclusion proof: \(error)"
        }
    }
}
