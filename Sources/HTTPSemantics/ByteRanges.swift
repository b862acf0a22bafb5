/// RFC 9110 §14.1 byte ranges: parsing a `Range` header and resolving it against a representation's length.
public enum ByteRanges {
    /// One `range-spec` as written, with numbers saturated at `UInt64.max` (RFC 9110 §14.1.2: never overflow).
    public enum Spec: Equatable, Sendable {
        /// `first-last` or `first-`.
        case from(UInt64, through: UInt64?)
        /// `-length`: the last `length` bytes.
        case suffix(UInt64)
    }

    /// What a `Range` header asks for.
    public enum Request: Equatable, Sendable {
        /// Byte ranges, in the order given.
        case bytes([Spec])
        /// Syntactically invalid, an unknown unit, or too many ranges: the header is ignored (RFC 9110 §14.2).
        case ignored
    }

    /// The outcome for a representation of a known length.
    public enum Resolution: Equatable, Sendable {
        /// Serve these half-open byte ranges: overlapping and nearby ones coalesced, in the order the request first
        /// asked for each (RFC 9110 §14.6); one range → single-part 206.
        case satisfiable([Range<UInt64>])
        /// 416 with `Content-Range: bytes */length`.
        case unsatisfiable
    }

    /// More range specs than this and the header is ignored (a whole 200 is sent), like nginx's `max_ranges`.
    public static let maximumSpecs = 100
    /// Ranges closer than this are merged into one part.
    public static let coalescingGap: UInt64 = 80

    /// Parses a `Range` header value (a byte-level scan: no intermediate strings).
    public static func parse(_ value: Substring) -> Request {
        var bytes = value.utf8[...]
        let unit = Array("bytes=".utf8)
        guard bytes.count > unit.count, zip(bytes.prefix(unit.count), unit).allSatisfy({ $0 | ($0 >= 65 && $0 <= 90 ? 0x20 : 0) == $1 }) else {
            return .ignored
        }
        bytes = bytes.dropFirst(unit.count)
        var specs: [Spec] = []
        while !bytes.isEmpty {
            // One list element: optional whitespace, a range-spec or nothing, optional whitespace, then ',' or the end.
            bytes = bytes.drop { $0 == 0x20 || $0 == 0x09 }
            if bytes.first == UInt8(ascii: ",") {
                bytes = bytes.dropFirst()
                continue
            }
            if bytes.isEmpty { break }
            let first = digits(&bytes)
            guard bytes.first == UInt8(ascii: "-") else { return .ignored }
            bytes = bytes.dropFirst()
            let last = digits(&bytes)
            bytes = bytes.drop { $0 == 0x20 || $0 == 0x09 }
            guard bytes.isEmpty || bytes.first == UInt8(ascii: ",") else { return .ignored }
            switch (first, last) {
            case (nil, nil): return .ignored
            case (nil, let length?): specs.append(.suffix(length))
            case (let first?, nil): specs.append(.from(first, through: nil))
            case (let first?, let last?):
                guard last >= first else { return .ignored }
                specs.append(.from(first, through: last))
            }
            if specs.count > maximumSpecs { return .ignored }
        }
        return specs.isEmpty ? .ignored : .bytes(specs)
    }

    /// Consumes leading digits; their value saturates at `UInt64.max` instead of overflowing. Nil when none.
    static func digits(_ bytes: inout Substring.UTF8View.SubSequence) -> UInt64? {
        var value: UInt64 = 0
        var count = 0
        while let c = bytes.first, c >= 0x30 && c <= 0x39 {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(c - 0x30))
            value = (o1 || o2) ? .max : sum
            count += 1
            bytes = bytes.dropFirst()
        }
        return count > 0 ? value : nil
    }

    /// Resolves specs against `length` bytes: drops unsatisfiable ones, merges overlapping and nearby ranges, and
    /// keeps the request's order (RFC 9110 §14.6: parts SHOULD follow the order of the range-specs).
    public static func resolve(_ specs: [Spec], length: UInt64) -> Resolution {
        var ranges: [Range<UInt64>] = []
        for spec in specs {
            switch spec {
            case .from(let first, let last):
                guard first < length else { continue }
                let end = last.map { min($0, length - 1) + 1 } ?? length
                ranges.append(first..<end)
            case .suffix(let count):
                guard count > 0, length > 0 else { continue }
                ranges.append((length - min(count, length))..<length)
            }
        }
        guard !ranges.isEmpty else { return .unsatisfiable }
        let requested = ranges
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<UInt64>] = [ranges[0]]
        for range in ranges.dropFirst() {
            let last = merged[merged.count - 1]
            if range.lowerBound <= last.upperBound &+ coalescingGap {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        // Order each merged range by the first requested range it contains.
        let firstAsked = merged.map { group in requested.firstIndex { group.contains($0.lowerBound) }! }
        return .satisfiable(zip(firstAsked, merged).sorted { $0.0 < $1.0 }.map(\.1))
    }
}

extension Substring {
    func trimming(while predicate: (Character) -> Bool) -> Substring {
        var result = self
        while let first = result.first, predicate(first) { result.removeFirst() }
        while let last = result.last, predicate(last) { result.removeLast() }
        return result
    }
}
