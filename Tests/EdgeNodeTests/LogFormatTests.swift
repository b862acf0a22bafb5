import NIOCore
@testable import EdgeNode
import Foundation
import Logging
import Testing

@Suite struct LogFormatTests {
    static let time = Date(timeIntervalSince1970: 1_764_730_271.123)

    @Test func textLinesQuoteValuesWithSpacesAndKeepOneLine() {
        let line = LogFormat.text.line(level: .warning, label: "edge-paris", message: "parent failed\nmarked bad",
                                       metadata: ["path": "/clip/seg 1.ts", "parent": "origin-1", "empty": "", "quote": "say \"hi\""],
                                       time: Self.time)
        #expect(line == #"2025-12-03T02:51:11.123Z warning edge-paris: parent failed\nmarked bad empty="" parent=origin-1 path="/clip/seg 1.ts" quote="say \"hi\"""#)
    }

    @Test func journalLinesCarryTheSyslogPriority() {
        let cases: [(Logger.Level, String)] = [(.trace, "<7>"), (.debug, "<7>"), (.info, "<6>"), (.notice, "<5>"), (.warning, "<4>"),
                                               (.error, "<3>"), (.critical, "<2>")]
        for (level, prefix) in cases {
            let line = LogFormat.journal.line(level: level, label: "origin-1", message: "ready", metadata: ["listen": "127.0.0.1:8080"], time: Self.time)
            #expect(line == prefix + "origin-1: ready listen=127.0.0.1:8080")
        }
    }

    @Test func jsonLinesParseWithEveryField() throws {
        let line = LogFormat.json.line(level: .error, label: "mesh-lyon", message: "bad \"bytes\"\u{1}", metadata: ["reason": "a\tb", "message": "shadow"],
                                       time: Self.time)
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["time"] as? String == "2025-12-03T02:51:11.123Z")
        #expect(object["level"] as? String == "error" && object["priority"] as? Int == 3 && object["node"] as? String == "mesh-lyon")
        #expect(object["message"] as? String == "bad \"bytes\"\u{1}", "a metadata key cannot replace the message")
        #expect(object["reason"] as? String == "a\tb")
    }

    @Test func journalIsChosenOnlyWhenStderrIsTheJournalStream() {
        let identity: (device: UInt64, inode: UInt64) = (64769, 123_456)
        #expect(LogFormat.automatic(environment: ["JOURNAL_STREAM": "64769:123456"], stderrIdentity: identity) == .journal)
        #expect(LogFormat.automatic(environment: ["JOURNAL_STREAM": "64769:999"], stderrIdentity: identity) == .text,
                "stderr redirected elsewhere by the service: not the journal")
        #expect(LogFormat.automatic(environment: [:], stderrIdentity: identity) == .text)
        #expect(LogFormat.automatic(environment: ["JOURNAL_STREAM": "garbage"], stderrIdentity: identity) == .text)
    }

    @Test func theSharedLevelChangesEveryLoggerUnlessOneSetItsOwn() {
        let level = LogLevelSwitch(.info)
        var shared = Logger(label: "a") { NodeLogHandler(label: $0, format: .text, level: level) }
        var own = Logger(label: "b") { NodeLogHandler(label: $0, format: .text, level: level) }
        own.logLevel = .error
        #expect(shared.logLevel == .info && own.logLevel == .error)
        level.level = .debug
        #expect(shared.logLevel == .debug && own.logLevel == .error)
        shared[metadataKey: "node"] = "edge-1"
        #expect(shared[metadataKey: "node"] == "edge-1")
    }
}

/// Issue 24 (15): logs write socket addresses as people and tools expect them.
@Suite struct SocketAddressLogTests {
    @Test func addressesAreHostAndPort() throws {
        #expect(try SocketAddress(ipAddress: "127.0.0.1", port: 42552).logDescription == "127.0.0.1:42552")
        #expect(try SocketAddress(ipAddress: "::1", port: 8080).logDescription == "[::1]:8080")
        #expect(try SocketAddress(ipAddress: "2001:db8::7", port: 1).logDescription == "[2001:db8::7]:1")
        #expect(try SocketAddress(unixDomainSocketPath: "/run/edgenode.sock").logDescription == "/run/edgenode.sock")
    }
}
