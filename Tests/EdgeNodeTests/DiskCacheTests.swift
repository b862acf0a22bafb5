import Foundation
import Testing
import TestSupport
@testable import EdgeNode

@Suite struct DiskCacheTests {
    static func store(_ cache: DiskCache, _ path: String, bytes: Int, fill: UInt8 = 0x41) throws -> [String] {
        let object = try cache.beginWrite(path, size: Int64(bytes))
        try object.write([UInt8](repeating: fill, count: bytes), at: 0)
        return try cache.commit(object)
    }

    @Test func objectsAppearOnlyWhenCommitted() throws {
        let root = try TemporaryDirectory("disk")
        defer { root.remove() }
        let cache = try DiskCache(root: root.path, capacityBytes: 1_000_000)
        let object = try cache.beginWrite("song/720p/seg_00000.ts", size: 1000)
        // Chunks land in any order at their offsets.
        try object.write([UInt8](repeating: 1, count: 600), at: 400)
        try object.write([UInt8](repeating: 1, count: 400), at: 0)
        #expect(throws: StorageError.self, "no write past the declared size") { try object.write([0], at: 1000) }
        #expect(!FileManager.default.fileExists(atPath: root.path + "/song/720p/seg_00000.ts"), "invisible while partial")
        #expect(!cache.contains("song/720p/seg_00000.ts"))
        try cache.commit(object)
        #expect(try Data(contentsOf: URL(fileURLWithPath: root.path + "/song/720p/seg_00000.ts")) == Data(repeating: 1, count: 1000))
        #expect(cache.contains("song/720p/seg_00000.ts") && cache.usedBytes == 1000)
        let discarded = try cache.beginWrite("song/720p/seg_00001.ts", size: 10)
        try discarded.write([UInt8](repeating: 2, count: 10), at: 0)
        cache.discard(discarded)
        #expect(!FileManager.default.fileExists(atPath: root.path + "/song/720p/seg_00001.ts"))
        #expect((try? FileManager.default.contentsOfDirectory(atPath: root.path + "/.partial"))?.isEmpty == true)
    }

    @Test func aSmallerBudgetDeletesFilesDownToIt() throws {
        let root = try TemporaryDirectory("disk")
        defer { root.remove() }
        let cache = try DiskCache(root: root.path, capacityBytes: 10_000)
        for index in 0..<10 { _ = try Self.store(cache, "c/seg_\(index).ts", bytes: 1000) }
        let evicted = cache.resize(capacityBytes: 3_000)
        #expect(cache.capacityBytes == 3_000 && cache.usedBytes <= 3_000 && evicted.count >= 7)
        for path in evicted { #expect(!FileManager.default.fileExists(atPath: root.path + "/" + path)) }
        let left = try FileManager.default.contentsOfDirectory(atPath: root.path + "/c")
        #expect(left.count == 10 - evicted.count)
    }

    @Test func evictionHoldsTheBudgetAndDeletesFiles() throws {
        let root = try TemporaryDirectory("disk")
        defer { root.remove() }
        let cache = try DiskCache(root: root.path, capacityBytes: 10_000)
        var evicted: [String] = []
        for index in 0..<30 {
            evicted += try Self.store(cache, "c/seg_\(index).ts", bytes: 1000)
            #expect(cache.usedBytes <= 10_000)
        }
        #expect(evicted.count == 20)
        for path in evicted { #expect(!FileManager.default.fileExists(atPath: root.path + "/" + path), "\(path) still on disk") }
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: root.path + "/c")
        #expect(onDisk.count == 10)
        #expect(try Self.store(cache, "c/huge.bin", bytes: 20_000) == ["c/huge.bin"], "larger than the budget: not kept")
    }

    @Test func restartRebuildsTheIndexAndDiscardsPartials() throws {
        let root = try TemporaryDirectory("disk")
        defer { root.remove() }
        do {
            let cache = try DiskCache(root: root.path, capacityBytes: 100_000)
            for index in 0..<5 { _ = try Self.store(cache, "c/seg_\(index).ts", bytes: 2000) }
            let abandoned = try cache.beginWrite("c/seg_5.ts", size: 500)
            try abandoned.write([UInt8](repeating: 9, count: 500), at: 0)
            // The process "crashes" here: the partial object is never committed.
        }
        let reopened = try DiskCache(root: root.path, capacityBytes: 100_000)
        #expect(reopened.usedBytes == 10_000)
        #expect((0..<5).allSatisfy { reopened.contains("c/seg_\($0).ts") })
        #expect(!reopened.contains("c/seg_5.ts") && !FileManager.default.fileExists(atPath: root.path + "/c/seg_5.ts"))
        #expect((try FileManager.default.contentsOfDirectory(atPath: root.path + "/.partial")).isEmpty)
        // A smaller budget on restart evicts down to it, oldest first.
        let smaller = try DiskCache(root: root.path, capacityBytes: 4_000)
        #expect(smaller.usedBytes <= 4_000)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path + "/c").count == 2)
    }

    @Test func pathsThatWouldEscapeOrHideAreRefused() throws {
        let root = try TemporaryDirectory("disk")
        defer { root.remove() }
        let cache = try DiskCache(root: root.path, capacityBytes: 1_000_000)
        for bad in ["../escape.ts", "c/../../x", "/etc/passwd", ".partial/x", "c/.hidden", "", "c//d", "toplevel.ts", "c/manifest.json"] {
            #expect(throws: StorageError.self, "\(bad)") { try cache.beginWrite(bad, size: 1) }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == [".partial"])
    }

    /// A real process killed with SIGKILL in the middle of writing an object leaves nothing that looks complete.
    @Test func aKilledWriterLeavesNoCompleteLookingObject() throws {
        let root = try TemporaryDirectory("disk")
        defer { root.remove() }
        // dd stands in for a fill being written: it writes into the cache's partial directory and is killed.
        _ = try DiskCache(root: root.path, capacityBytes: 1_000_000)
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/dd")
        writer.arguments = ["if=/dev/zero", "of=\(root.path)/.partial/object-killed", "bs=65536", "count=100000"]
        writer.standardError = FileHandle.nullDevice
        try writer.run()
        usleep(100_000)
        kill(writer.processIdentifier, SIGKILL)
        writer.waitUntilExit()
        let reopened = try DiskCache(root: root.path, capacityBytes: 1_000_000)
        #expect(reopened.usedBytes == 0)
        #expect((try FileManager.default.contentsOfDirectory(atPath: root.path + "/.partial")).isEmpty)
    }
}
