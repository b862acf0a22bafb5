import Metrics

/// This build: what `edgenode --version` prints and `edgenode_build_info` carries.
public enum BuildInfo {
    /// The release, bumped with each round of issues.
    public static let version = "0.14.0"

    /// The Swift compiler the binary was built with.
    public static var swift: String {
        #if swift(>=6.3)
        "6.3"
        #elseif swift(>=6.2)
        "6.2"
        #else
        "6.1"
        #endif
    }

    /// `edgenode 0.14.0 (Swift 6.3)`.
    public static var description: String { "edgenode \(version) (Swift \(swift))" }

    /// Records `edgenode_build_info{version, swift} 1` (the Prometheus convention for build metadata).
    public static func record() {
        Gauge(label: "edgenode_build_info", dimensions: [("version", version), ("swift", swift)]).record(1)
    }
}
