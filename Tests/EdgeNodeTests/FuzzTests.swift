import Foundation
import Testing
import TestSupport
@testable import EdgeNode

@Suite struct EdgeNodeFuzzTests {
    /// Random byte streams of request-like material: the scanner never crashes and never counts more completed
    /// heads than there are line feeds.
    @Test(arguments: 0..<4)
    func requestHeadScanner(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let alphabet = Array("GET / HTTP/1.1\r\nContent-Length: 12\r\nTransfer-Encoding: chunked\r\n\r\n0123456789".utf8)
        for _ in 0..<2000 {
            var scanner = RequestHeadScanner(limit: Int.random(in: 1...300, using: &generator))
            var feeds = 0
            var completed = 0
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let piece = (0..<Int.random(in: 0...80, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
                feeds += piece.filter { $0 == 10 }.count
                let outcome = piece.withUnsafeBytes { scanner.consume($0) }
                completed += outcome.completedRequests
                if outcome.overflow { break }
            }
            #expect(completed <= feeds)
        }
    }

    /// Mutations of the sample fleet: every one parses or fails with a ConfigError, never a crash.
    @Test(arguments: 0..<3)
    func nodesConfig(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        let sample = Array(try String(contentsOfFile: NodesConfigTests.repositoryRoot + "/nodes.conf", encoding: .utf8).utf8)
        let noise = Array("[]=\"#\n .,0123456789abcnodeportrole".utf8)
        for _ in 0..<300 {
            var bytes = sample
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = noise.randomElement(using: &generator)!
                case 1: bytes.remove(at: index)
                default: bytes.insert(noise.randomElement(using: &generator)!, at: index)
                }
            }
            do {
                _ = try NodesConfig.parse(String(decoding: bytes, as: UTF8.self), path: "fuzz.conf", baseDirectory: "/")
            } catch {
                #expect(error.file == "fuzz.conf" && !error.message.isEmpty)
            }
        }
    }
}
