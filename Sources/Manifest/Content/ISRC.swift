/// An International Standard Recording Code (ISO 3901): two letters (country or agency), three letters or digits
/// (registrant), two digits (year of reference), five digits (designation). Written `CC-XXX-YY-NNNNN` for people;
/// the code itself is the twelve characters.
public struct ISRC: Hashable, Sendable, CustomStringConvertible {
    /// The twelve characters, upper case.
    public let code: String

    /// Why a text is not an ISRC.
    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public let text: String
        public let reason: String
        public var description: String { "\"\(text.prefix(40))\" is not an ISRC (CC-XXX-YY-NNNNN): \(reason)" }
    }

    /// Parses an ISRC as people write it: an optional `ISRC` label, hyphens or spaces between the elements, lower
    /// case taken as upper case (ISRC Handbook). Nothing else is accepted.
    public init(_ text: String) throws(Invalid) {
        var body = Substring(text.uppercased())
        if body.hasPrefix("ISRC") { body = body.dropFirst(4) }
        let characters = body.filter { $0 != "-" && $0 != " " }
        guard characters.count == 12, characters.allSatisfy({ $0.isASCII }) else {
            throw Invalid(text: text, reason: "it must have 12 characters besides hyphens (has \(characters.count))")
        }
        let scalars = Array(characters.unicodeScalars)
        func letter(_ s: Unicode.Scalar) -> Bool { ("A"..."Z").contains(s) }
        func digit(_ s: Unicode.Scalar) -> Bool { ("0"..."9").contains(s) }
        guard scalars[0..<2].allSatisfy(letter) else { throw Invalid(text: text, reason: "the country code must be two letters") }
        guard scalars[2..<5].allSatisfy({ letter($0) || digit($0) }) else {
            throw Invalid(text: text, reason: "the registrant code must be three letters or digits")
        }
        guard scalars[5..<12].allSatisfy(digit) else { throw Invalid(text: text, reason: "the year and designation must be seven digits") }
        code = String(characters)
    }

    /// `CC-XXX-YY-NNNNN`.
    public var description: String {
        let c = Array(code)
        return "\(String(c[0..<2]))-\(String(c[2..<5]))-\(String(c[5..<7]))-\(String(c[7..<12]))"
    }
}
