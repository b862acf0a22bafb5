import EdgeNode
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The operator status page in headless Chromium on a real three-node fleet: its table holds what `/cluster` says,
/// and the screenshot has the page's structure (the dark header, each node's marker on the map in its status colour).
@Suite struct StatusPageTests {
    static let chromium = "/usr/bin/chromium"

    static func chromium(_ arguments: [String]) throws -> ProcessOutput {
        try ProcessRunner.run(chromium, ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,1100",
                                         "--virtual-time-budget=6000", "--user-data-dir=" + NSTemporaryDirectory() + "edgenode-chromium-\(getpid())"]
                              + arguments, timeout: 120)
    }

    /// The RGB of each (x, y) pixel of a PNG (8-bit RGB or RGBA, not interlaced), decoded by Python's zlib.
    static func pixels(_ png: String, at points: [(Int, Int)]) throws -> [[Int]] {
        let script = """
            import json, struct, sys, zlib
            data = open(sys.argv[1], "rb").read()
            assert data[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
            pos, idat = 8, b""
            while pos < len(data):
                length, kind = struct.unpack(">I4s", data[pos:pos + 8]); body = data[pos + 8:pos + 8 + length]; pos += 12 + length
                if kind == b"IHDR": width, height, depth, color = struct.unpack(">IIBB", body[:10])
                elif kind == b"IDAT": idat += body
            assert depth == 8 and color in (2, 6)
            channels = 3 if color == 2 else 4
            raw, stride, rows, previous = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
            for y in range(height):
                kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
                for i in range(stride):
                    left = line[i - channels] if i >= channels else 0
                    up, corner = previous[i], previous[i - channels] if i >= channels else 0
                    if kind == 1: line[i] = (line[i] + left) & 255
                    elif kind == 2: line[i] = (line[i] + up) & 255
                    elif kind == 3: line[i] = (line[i] + (left + up) // 2) & 255
                    elif kind == 4:
                        p = left + up - corner; pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                        line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
                rows.append(line); previous = line
            points = json.loads(sys.argv[2])
            print(json.dumps([list(rows[y][x * channels:x * channels + 3]) for x, y in points]))
            """
        let output = try ProcessRunner.run("python3", ["-c", script, png, "\(points.map { [$0.0, $0.1] })"], timeout: 120)
        guard output.status == 0, let decoded = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[Int]] else {
            throw FixtureError(message: "PNG decoding failed: \(output.stderr)")
        }
        return decoded
    }

    static func close(_ pixel: [Int], to hex: Int) -> Bool {
        let expected = [hex >> 16 & 0xff, hex >> 8 & 0xff, hex & 0xff]
        return zip(pixel, expected).allSatisfy { abs($0 - $1) <= 24 }
    }

    @Test func thePageShowsTheFleetAsClusterDoes() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            try #require(FileManager.default.isExecutableFile(atPath: Self.chromium), "chromium is missing: make test installs it")
            let fixture = try await PublishedContent.shared.fixture()
            let fleet = try GossipFleet(size: 3, pubkey: fixture.pubkey)
            try fleet.startAll()
            #expect(EdgeFleet.eventually(20) { (0..<3).allSatisfy { fleet.status(of: $0, seenBy: 1) == "alive" } }, "all alive at node-1")
            // A routing decision for the page to list, and a node that leaves (grey, not green).
            _ = try? RawHTTPConnection.get(fleet.hosts[1], GossipFleet.httpPort, "/some-content/master.m3u8")
            fleet.signal(2, SIGTERM)
            #expect(EdgeFleet.eventually(20) { fleet.status(of: 2, seenBy: 1) == "left" }, "node-2 left, as node-1 sees it")
            let url = "http://\(fleet.hosts[1]):\(GossipFleet.httpPort)/status"

            let dump = try Self.chromium(["--dump-dom", url])
            try #require(dump.status == 0, "chromium: \(dump.stderr.suffix(2000))")
            let dom = dump.stdout
            #expect(dom.contains("data-rendered="), "the page fetched /status/data and rendered it: \(dom.prefix(3000))")
            let rows = try Regex(#"<tr class="[^"]*" data-node="([^"]+)" data-status="([^"]+)">"#)
            let shown = Dictionary(dom.matches(of: rows).map { (String($0.output[1].substring!), String($0.output[2].substring!)) },
                                   uniquingKeysWith: { first, _ in first })
            let cluster = try #require(fleet.view(1))
            #expect(shown == Dictionary(uniqueKeysWithValues: cluster.members.map { ($0.name, $0.status) }), "table \(shown) vs /cluster")
            #expect(dom.contains("<h1>edgenode <span id=\"node\">node-1</span>"))
            #expect(dom.contains("some-content"), "the routing decision is listed")

            let markers = try Regex(#"<circle class="([a-z]+)"[^>]*data-node="([^"]+)" data-screen="(\d+),(\d+)""#)
            let placed = dom.matches(of: markers).map { (status: String($0.output[1].substring!), node: String($0.output[2].substring!),
                                                          x: Int($0.output[3].substring!)!, y: Int($0.output[4].substring!)!) }
            #expect(Set(placed.map(\.node)) == ["node-0", "node-1", "node-2"], "\(placed)")
            let png = NSTemporaryDirectory() + "edgenode-status-\(getpid()).png"
            defer { if ProcessInfo.processInfo.environment["EDGENODE_KEEP_SCREENSHOT"] == nil { unlink(png) } }
            let shot = try Self.chromium(["--screenshot=" + png, url])
            try #require(shot.status == 0, "chromium: \(shot.stderr.suffix(2000))")
            let colours = try Self.pixels(png, at: [(20, 10)] + placed.map { ($0.x, $0.y) })
            #expect(Self.close(colours[0], to: 0x1d2330), "the dark header at the top: \(colours[0])")
            for (marker, colour) in zip(placed, colours.dropFirst()) {
                let expected = ["alive": 0x2e9d4f, "suspect": 0xe0a100, "dead": 0xc8312b, "left": 0x8a8f98][marker.status] ?? 0
                #expect(Self.close(colour, to: expected), "\(marker.node) (\(marker.status)) drawn at \(marker.x),\(marker.y) in \(colour)")
            }
        }
    }

    @Test func anyoneElseGetsTheTokenFormAndNoData() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let fixture = try await PublishedContent.shared.fixture()
            let fleet = try GossipFleet(size: 2, pubkey: fixture.pubkey)
            try fleet.start(0)
            // 127.x is loopback here: the other side is exercised by NodeEndpointsTests.operatorAccess with a foreign peer.
            let page = try RawHTTPConnection.get(fleet.hosts[0], GossipFleet.httpPort, "/status")
            #expect(page.status == 200 && page.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
            let data = try RawHTTPConnection.get(fleet.hosts[0], GossipFleet.httpPort, "/status/data")
            let decoded = try JSONSerialization.jsonObject(with: Data(data.body)) as? [String: Any]
            #expect(data.status == 200 && decoded?["node"] as? String == "node-0")
            #expect(try RawHTTPConnection.get(fleet.hosts[0], GossipFleet.httpPort, "/status/nope").status == 404)
        }
    }
}
