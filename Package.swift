// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "edgenode",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "edgenode", targets: ["EdgeNodeCLI"]),
        .library(name: "Manifest", targets: ["Manifest"]),
        .library(name: "Segmenter", targets: ["Segmenter"]),
        .library(name: "EdgeNode", targets: ["EdgeNode"]),
        .executable(name: "cache-policy-bench", targets: ["CachePolicyBench"]),
        .executable(name: "route-bench", targets: ["RouteBench"]),
        .executable(name: "gossip-bench", targets: ["GossipBench"]),
        .executable(name: "ledger-bench", targets: ["LedgerBench"]),
        .executable(name: "royalty-bench", targets: ["RoyaltyBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // Pure Swift: RFC 9162 Merkle trees, chunk trees, signed notes, the manifest and HLS playlist models.
        .target(
            name: "Manifest",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // Pure RFC 9110 semantics for serving files: ranges, preconditions, response plans, safe paths, dates.
        .target(name: "HTTPSemantics"),
        // Pure request routing: where a viewer is (coverage zones), which node serves it (distance, load, health,
        // rendezvous hashing), with no I/O.
        .target(name: "Routing"),
        // libavformat/libavcodec/libavutil from the system, plus a header-only shim for macros Swift cannot import.
        .systemLibrary(
            name: "CLibAV",
            pkgConfig: "libavformat libavcodec libavutil",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev"])]
        ),
        // libav remux into HLS (MPEG-TS and fMP4), streaming chunk hashing, publishing into a signed directory.
        .target(
            name: "Segmenter",
            dependencies: ["CLibAV", "Manifest"]
        ),
        // Pure cache logic for edge, mesh and satellite nodes: eviction policies, verification of parent data against
        // the signed manifest, coalescing of concurrent misses (no I/O, no clock).
        .target(name: "EdgeCache", dependencies: ["Manifest"]),
        // Pure SWIM + Lifeguard membership and cluster records, the binary wire format and its AES-GCM sealing
        // (no sockets, no clock: the simulator and the daemon's UDP shell drive the same core).
        .target(name: "Gossip", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // Pure double-entry accounting and its verifiable log: currencies, accounts, transfers, the canonical entry
        // encoding (the Merkle leaf), the in-memory book the store is checked against, artist receipts.
        .target(name: "Ledger", dependencies: ["Manifest"]),
        // Pure royalty rules: views counted by nodes, exact splits, identifiers.
        .target(name: "Royalty", dependencies: ["Ledger", "Manifest", .product(name: "Crypto", package: "swift-crypto")]),
        // The ledger on SQLite (GRDB, WAL, synchronous=FULL): durable batches, the Merkle log rebuilt and checked
        // against the last signed checkpoint on open, group commit.
        .target(name: "LedgerStore", dependencies: ["Ledger", "Manifest", .product(name: "GRDB", package: "GRDB.swift")]),
        // TLS settings shared by the data plane, the control API and their clients (swift-nio-ssl): server contexts
        // a reload replaces, clients verifying against the fleet CA.
        .target(name: "NodeTLS", dependencies: [.product(name: "NIOSSL", package: "swift-nio-ssl")]),
        // The origin's control module: the ledger's HTTP API (Hummingbird) with scoped bearer tokens, and the service
        // that signs checkpoints periodically.
        .target(
            name: "Control",
            dependencies: [
                "Royalty",
                "Ledger", "LedgerStore", "Manifest", "NodeTLS",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // A seeded, replayable simulation of a whole cluster of GossipCores over a fake network and clock.
        .target(name: "GossipSimulation", dependencies: ["Gossip", "EdgeCache"]),
        // bench/gossip.sh, simulator part: record convergence and false positives at 1,000 members.
        .executableTarget(name: "GossipBench", dependencies: ["Gossip", "GossipSimulation", "EdgeCache"]),
        // bench/ledger.sh, in-process part: group commit vs raw batched SQLite inserts, proof latency at 10^6 entries.
        .executableTarget(name: "LedgerBench", dependencies: ["Ledger", "LedgerStore", "Manifest", .product(name: "GRDB", package: "GRDB.swift")]),
        // bench/royalty.sh, in-process part: seeds a ledger with many artists, then posts signed delivery reports,
        // closes the month's views and runs the payouts through a real origin's control API.
        .executableTarget(name: "RoyaltyBench", dependencies: ["Control", "Ledger", "LedgerStore", "Manifest", "Royalty",
                                                             .product(name: "GRDB", package: "GRDB.swift")]),
        // bench/eviction.sh: LRU vs S3-FIFO hit ratios on seeded Zipf traces.
        .executableTarget(name: "CachePolicyBench", dependencies: ["EdgeCache"]),
        // The routing policy's cost and its effect on a group's hit ratio, run by bench/route.sh.
        .executableTarget(name: "RouteBench", dependencies: ["Routing", "EdgeCache"]),
        // libmaxminddb from the system: the GeoIP fallback for viewers in no coverage zone.
        .systemLibrary(name: "CMaxMindDB", pkgConfig: "libmaxminddb", providers: [.apt(["libmaxminddb-dev"])]),
        // Linux system calls Swift cannot call directly (openat2 is reached through the variadic syscall()).
        .target(name: "CEdgeSys"),
        // The node daemon's library: configuration, the HTTP data plane, content verification, keys.
        .target(
            name: "EdgeNode",
            dependencies: [
                "Manifest",
                "HTTPSemantics",
                "Routing",
                "CMaxMindDB",
                "Control",
                "Royalty",
                "LedgerStore",
                "EdgeCache",
                "Gossip",
                "CEdgeSys",
                "NodeTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Atomics", package: "swift-atomics"),
            ]
        ),
        .executableTarget(
            name: "EdgeNodeCLI",
            dependencies: [
                "EdgeNode",
                "Gossip",
                "Ledger",
                "LedgerStore",
                "Control",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                "Manifest",
                "Segmenter",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Test helpers shared by the test targets: running processes and generating media with ffmpeg.
        .target(name: "TestSupport", dependencies: ["EdgeCache"], path: "Tests/TestSupport"),
        .testTarget(name: "ManifestTests", dependencies: ["Manifest", "TestSupport"]),
        .testTarget(name: "HTTPSemanticsTests", dependencies: ["HTTPSemantics", "TestSupport"]),
        .testTarget(name: "RoutingTests", dependencies: ["Routing"]),
        .testTarget(name: "RoyaltyTests", dependencies: ["Royalty", "Ledger", "TestSupport"]),
        .testTarget(name: "EdgeCacheTests", dependencies: ["EdgeCache", "Manifest"]),
        .testTarget(name: "GossipTests", dependencies: ["Gossip", "GossipSimulation", "EdgeCache"]),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "Manifest", "EdgeCache"]),
        .testTarget(name: "LedgerStoreTests", dependencies: ["LedgerStore", "Ledger", "Manifest", "EdgeCache", "TestSupport",
                                                        .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "ControlTests", dependencies: ["Control", "Ledger", "LedgerStore", "Manifest", "NodeTLS", "Royalty", "TestSupport",
                                                     .product(name: "NIOHTTP1", package: "swift-nio")]),
        .testTarget(name: "SegmenterTests", dependencies: ["Segmenter", "Manifest", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["Manifest", "EdgeNode", "Ledger", "LedgerStore", "Control", "Royalty", "TestSupport",
                                                 .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "EdgeNodeTests",
            dependencies: [
                "EdgeNode", "EdgeCache", "Gossip", "HTTPSemantics", "Manifest", "Routing", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
