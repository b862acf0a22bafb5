/// Why a Merkle proof could not be produced or did not verify.
public enum MerkleProofError: Error, Equatable, Sendable, CustomStringConvertible {
    case indexOutOfRange(Int, Int)
    case sizeBeyondTree(Int, Int)
    case sizesOutOfOrder(Int, Int)
    case wrongProofLength(expected: Int, got: Int)
    case rootMismatch
    case nonEmptyProofForTrivialCase

    public var description: String {
        switch self {
        case .indexOutOfRange(let index, let size): "leaf index \(index) is outside a tree of size \(size)"
        case .sizeBeyondTree(let asked, let size): "tree size \(asked) exceeds the \(size) leaves held"
        case .sizesOutOfOrder(let old, let new): "old size \(old) is larger than new size \(new)"
        case .wrongProofLength(let expected, let got): "proof has \(got) hashes, expected \(expected)"
        case .rootMismatch: "proof does not lead to the expected root"
        case .nonEmptyProofForTrivialCase: "proof must be empty for these sizes"
        }
    }
}
