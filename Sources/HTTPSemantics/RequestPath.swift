/// Turns a request-target into path components under the content root, refusing anything that could escape it or
/// reach a hidden file. Decided on the string alone: nothing outside the root is ever touched.
public enum RequestPath {
    /// Longest request path accepted.
    public static let maximumLength = 4096

    /// The decoded components, or nil for a target that must be answered 404 (`..`, NUL or control characters,
    /// encoded `/` or `\`, bad percent-encoding, hidden components, a trailing `/` — only directories end in one, and
    /// none is served — or not origin- or absolute-form).
    public static func components(of target: Substring) -> [Substring]? {
        var path = originForm(of: target)
        if let query = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<query] }
        guard path.first == "/", path.utf8.count <= maximumLength, path == "/" || path.last != "/" else { return nil }
        var components: [Substring] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = percentDecode(raw) else { return nil }
            guard !decoded.isEmpty, !decoded.hasPrefix("."),
                  !decoded.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "\\") })
            else { return nil }
            components.append(decoded)
        }
        return components
    }

    /// The target in origin form (RFC 9112 §3.2.1): an absolute-form target (`http://host/path?query`, which §3.2.2
    /// requires servers to accept) loses its scheme and authority; an origin-form one is returned as it is. The host a
    /// client names is never echoed into a URL this server builds.
    /// The scheme is matched without regard to case (RFC 3986 §3.1), and the authority ends at the first `/`, `?` or
    /// `#`: `http://host?/a/b` is the root with a query, never the path `/a/b`.
    public static func originForm(of target: Substring) -> Substring {
        // Every origin-form target starts with "/": one byte decides the common case.
        guard let first = target.utf8.first, first | 0x20 == UInt8(ascii: "h") else { return target }
        let scheme: Int
        if target.utf8.count >= 7 && target.prefix(7).lowercased() == "http://" {
            scheme = 7
        } else if target.utf8.count >= 8 && target.prefix(8).lowercased() == "https://" {
            scheme = 8
        } else {
            return target
        }
        let afterScheme = target.dropFirst(scheme)
        guard let start = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) else { return "/" }
        return afterScheme[start] == "/" ? afterScheme[start...] : Substring("/" + afterScheme[start...])
    }

    /// Whether the target's path (before any query or fragment) ends with `suffix`, compared byte for byte without
    /// decoding: a cheap test on every request before `components(of:)` parses the path.
    public static func path(of target: Substring, endsWith suffix: StaticString) -> Bool {
        pathBytes(pathBytes(of: target), endWith: suffix)
    }

    /// The bytes of the target's path: everything before any query or fragment, not decoded.
    public static func pathBytes(of target: Substring) -> Substring.UTF8View {
        target.utf8.prefix { $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }
    }

    /// Whether `path` (see `pathBytes(of:)`) ends with `suffix`, byte for byte.
    public static func pathBytes(_ path: Substring.UTF8View, endWith suffix: StaticString) -> Bool {
        let tail = UnsafeBufferPointer(start: suffix.utf8Start, count: suffix.utf8CodeUnitCount)
        return path.count >= tail.count && path.suffix(tail.count).elementsEqual(tail)
    }

    static func percentDecode(_ text: Substring) -> Substring? {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        guard let string = String(validating: bytes, as: UTF8.self) else { return nil }
        return Substring(string)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
