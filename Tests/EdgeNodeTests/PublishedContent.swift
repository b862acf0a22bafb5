import Foundation
import TestSupport

/// A content root published once per test run with the real `edgenode` binary: the H.264/AAC clip as TS
/// (`content-ts`) and fMP4 (`content-fmp4`), plus a 48 MiB `big.bin` for slow-reader tests.
actor PublishedContent {
    static let shared = PublishedContent()
    private var making: Task<Fixture, Error>?

    struct Fixture: Sendable {
        let root: String
        let pubkey: String
    }

    /// The fixture, made once: concurrent callers await the same task (an actor alone would let them interleave at
    /// every await).
    func fixture() async throws -> Fixture {
        if let making { return try await making.value }
        let task = Task { try await Self.make() }
        making = task
        return try await task.value
    }

    private static func make() async throws -> Fixture {
        let base = NSTemporaryDirectory() + "edgenode-served-\(getpid())"
        try? FileManager.default.removeItem(atPath: base)
        try FileManager.default.createDirectory(atPath: base + "/root", withIntermediateDirectories: true)
        let input = try await MediaFixtures.shared.path(.h264AAC)
        _ = try EdgeNodeBinary.run(["keygen", "--out", base + "/origin"])
        for format in ["ts", "fmp4"] {
            let result = try EdgeNodeBinary.run(["segment", input, "--out", base + "/root/content-\(format)", "--key", base + "/origin.key",
                                                 "--format", format, "--no-fsync"])
            guard result.status == 0 else { throw FixtureError(message: result.stderr) }
        }
        var generator = SystemRandomNumberGenerator()
        let big = (0..<(48 * 1024 * 1024 / 8)).map { _ in generator.next() as UInt64 }
        try big.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: base + "/root/big.bin")) }
        return Fixture(root: base + "/root", pubkey: base + "/origin.pub")
    }
}
