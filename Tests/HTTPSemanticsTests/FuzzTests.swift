import Testing
import TestSupport
@testable import HTTPSemantics

/// Seeded random input against every parser that faces the network: no crash, and the invariants hold.
@Suite struct HTTPFuzzTests {
    static func randomText(_ generator: inout SeededGenerator, alphabet: [Character], maxLength: Int) -> String {
        String((0..<Int.random(in: 0...maxLength, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
    }

    @Test(arguments: 0..<4)
    func rangeHeaders(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let alphabet = Array("bytes=0123456789-, \t9xB")
        for _ in 0..<5000 {
            let text = Self.randomText(&generator, alphabet: alphabet, maxLength: 40)
            guard case .bytes(let specs) = ByteRanges.parse(Substring(text)) else { continue }
            let length = UInt64.random(in: 0...10_000, using: &generator)
            if case .satisfiable(let ranges) = ByteRanges.resolve(specs, length: length) {
                #expect(ranges.allSatisfy { !$0.isEmpty && $0.upperBound <= length }, "\(text)")
            }
        }
    }

    @Test(arguments: 0..<4)
    func requestPaths(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let alphabet = Array("/.%2eEfF5cC0a?#\\\u{0}\u{7f}é ")
        for _ in 0..<5000 {
            let text = "/" + Self.randomText(&generator, alphabet: alphabet, maxLength: 30)
            guard let components = RequestPath.components(of: Substring(text)) else { continue }
            for component in components {
                #expect(!component.isEmpty && !component.hasPrefix(".") && !component.contains("/") && !component.contains("\\")
                        && !component.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }, "\(text.debugDescription)")
            }
        }
    }

    @Test(arguments: 0..<4)
    func conditionalHeaders(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let alphabet = Array("W/\"abc*, GMTSun0123456789:-Nov")
        let representation = Representation(length: 1000, lastModified: 784_111_777, etag: EntityTag(opaque: "abc"),
                                            contentType: "video/mp2t", cacheControl: "public")
        for _ in 0..<3000 {
            let request = ConditionalRequest(
                range: Bool.random(using: &generator) ? "bytes=" + Self.randomText(&generator, alphabet: Array("0123456789-,"), maxLength: 12) : nil,
                ifRange: Bool.random(using: &generator) ? Self.randomText(&generator, alphabet: alphabet, maxLength: 30) : nil,
                ifMatch: Bool.random(using: &generator) ? Self.randomText(&generator, alphabet: alphabet, maxLength: 20) : nil,
                ifNoneMatch: Bool.random(using: &generator) ? Self.randomText(&generator, alphabet: alphabet, maxLength: 20) : nil,
                ifModifiedSince: Bool.random(using: &generator) ? Self.randomText(&generator, alphabet: alphabet, maxLength: 30) : nil)
            let plan = ResponsePlanner.plan(isHead: false, request: request, representation: representation, boundary: "b")
            #expect([200, 206, 304, 412, 416].contains(plan.status))
            if case .file(let range) = plan.body { #expect(range.upperBound <= 1000) }
        }
    }
}
