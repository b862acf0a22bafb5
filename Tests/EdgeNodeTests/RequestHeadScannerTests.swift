import Testing
@testable import EdgeNode

@Suite struct RequestHeadScannerTests {
    static func scan(_ pieces: [String], limit: Int = 100) -> [RequestHeadScanner.Outcome] {
        var scanner = RequestHeadScanner(limit: limit)
        return pieces.map { piece in Array(piece.utf8).withUnsafeBytes { scanner.consume($0) } }
    }

    @Test func countsHeadsAcrossArbitrarySplits() {
        let stream = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n\r\n"
        for split in 1..<stream.count {
            let first = String(stream.prefix(split)), second = String(stream.dropFirst(split))
            let outcomes = Self.scan([first, second])
            #expect(outcomes.map(\.completedRequests).reduce(0, +) == 2, "split at \(split)")
            #expect(!outcomes[1].inRequest && !outcomes[1].overflow)
        }
    }

    @Test func bareLineFeedsEndHeadsToo() {
        #expect(Self.scan(["GET / HTTP/1.1\nHost: x\n\n"]) == [.init(overflow: false, completedRequests: 1, inRequest: false)])
    }

    @Test func partialHeadIsReported() {
        #expect(Self.scan(["GET / HTTP/1.1\r\nHost:"])[0].inRequest)
        #expect(Self.scan(["\r\n\r\n"])[0].inRequest, "empty lines before a request start its deadline")
        #expect(Self.scan([String(repeating: "\r\n", count: 51)])[0].overflow, "and count against its size")
    }

    @Test func overflowCountsOnlyHeadBytes() {
        #expect(Self.scan(["GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 200)])[0].overflow)
        // A 500-byte body after a small head is not a head.
        let body = "POST / HTTP/1.1\r\ncontent-LENGTH: 500\r\n\r\n" + String(repeating: "b", count: 500) + "GET / HTTP/1.1\r\n\r\n"
        let outcome = Self.scan([body])[0]
        #expect(!outcome.overflow && outcome.completedRequests == 2 && !outcome.inRequest)
    }

    @Test func chunkedBodiesStopTheScan() {
        let outcome = Self.scan(["POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + String(repeating: "c", count: 1000)])[0]
        #expect(!outcome.overflow && outcome.completedRequests == 0 && outcome.inRequest, "ended by the handler, not here")
    }

    @Test func aRequestWithABodyIsCompleteOnlyWithItsLastByte() {
        let outcomes = Self.scan(["POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", "abc", "de"])
        #expect(outcomes.map(\.completedRequests) == [0, 0, 1])
        #expect(outcomes.map(\.inRequest) == [true, true, false])
    }
}
