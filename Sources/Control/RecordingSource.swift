import Royalty

/// Where the control module learns what the platform publishes (the origin's signed manifests): matched against DSP
/// statement lines and view reports.
public protocol RecordingSource: Sendable {
    /// Every published recording, read now.
    func recordings() throws -> [Catalog.Recording]
}
