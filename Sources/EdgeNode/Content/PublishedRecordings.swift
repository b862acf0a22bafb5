import Control
import Foundation
import Manifest
import Royalty

/// The recordings an origin publishes, read from its content directory: every `*/manifest.json` whose signature
/// verifies against the origin's key gives its content id, artist and ISRC. A manifest that does not verify is
/// skipped (it is not published content).
public struct PublishedRecordings: RecordingSource {
    public let directory: String
    public let verifier: NoteVerifier

    public init(directory: String, verifier: NoteVerifier) {
        self.directory = directory
        self.verifier = verifier
    }

    public func recordings() throws -> [Catalog.Recording] {
        var recordings: [Catalog.Recording] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() where !name.hasPrefix(".") {
            guard let data = try? AtomicFile.read(directory + "/" + name + "/manifest.json", limit: ContentManifest.maximumSize),
                  let manifest = try? ContentManifest.parse(data), let verified = try? VerifiedManifest(manifest, verifier: verifier) else { continue }
            recordings.append(Catalog.Recording(contentID: verified.manifest.contentID, artistID: verified.manifest.artistID,
                                                isrc: verified.manifest.isrc.flatMap { try? ISRC($0) }))
        }
        return recordings
    }
}
