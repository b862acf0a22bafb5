/// Finds the first member name that appears twice in one JSON object (RFC 8259 §4 leaves duplicates to each parser:
/// Foundation keeps one silently, so a body saying two things about one field would be read as one of them). Runs
/// over bytes that are then parsed properly; anything it cannot follow is left for the parser to refuse.
enum DuplicateKeyScanner {
    private enum Frame {
        case object(path: String, keys: Set<[UInt8]>, expectingKey: Bool, lastKey: String)
        case array(path: String, index: Int)
    }

    /// The duplicated name with the path of its object (`postings[1]`), or nil.
    static func firstDuplicate(in bytes: some Collection<UInt8>) -> (path: String, name: String)? {
        var stack: [Frame] = []
        var iterator = bytes.makeIterator()
        /// Reads a string body after its opening quote, raw (escapes kept as written: two spellings of one name are
        /// still caught by the parser's own duplicate, which never matters for our fields' ASCII names).
        func readString() -> [UInt8]? {
            var text: [UInt8] = []
            while let byte = iterator.next() {
                if byte == UInt8(ascii: "\"") { return text }
                text.append(byte)
                if byte == UInt8(ascii: "\\") {
                    guard let escaped = iterator.next() else { return nil }
                    text.append(escaped)
                }
            }
            return nil
        }
        func childPath() -> String {
            switch stack.last {
            case .object(let path, _, _, let key)?: path.isEmpty ? key : path + "." + key
            case .array(let path, let index)?: path + "[\(index)]"
            case nil: ""
            }
        }
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "{"):
                stack.append(.object(path: childPath(), keys: [], expectingKey: true, lastKey: ""))
            case UInt8(ascii: "["):
                stack.append(.array(path: childPath(), index: 0))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard !stack.isEmpty else { return nil }
                stack.removeLast()
            case UInt8(ascii: ","):
                switch stack.last {
                case .object(let path, let keys, _, let key)?: stack[stack.count - 1] = .object(path: path, keys: keys, expectingKey: true, lastKey: key)
                case .array(let path, let index)?: stack[stack.count - 1] = .array(path: path, index: index + 1)
                case nil: break
                }
            case UInt8(ascii: "\""):
                guard let text = readString() else { return nil }
                if case .object(let path, var keys, true, _)? = stack.last {
                    let name = String(decoding: text, as: UTF8.self)
                    guard keys.insert(text).inserted else { return (path.isEmpty ? "body" : path, name) }
                    stack[stack.count - 1] = .object(path: path, keys: keys, expectingKey: false, lastKey: name)
                }
            default:
                break
            }
        }
        return nil
    }
}
