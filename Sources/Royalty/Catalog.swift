import Manifest

/// What the platform publishes: each content with the artist who published it and its ISRC, from the origin's
/// signed manifests, and the artists the platform knows (those with content or payout settings). Statements and views
/// are matched against it.
public struct Catalog: Sendable {
    public struct Recording: Sendable, Equatable {
        public let contentID: String
        public let artistID: String
        public let isrc: ISRC?

        public init(contentID: String, artistID: String, isrc: ISRC?) {
            self.contentID = contentID
            self.artistID = artistID
            self.isrc = isrc
        }
    }

    private var byContent: [String: Recording] = [:]
    private var byISRC: [ISRC: Recording] = [:]
    public private(set) var knownArtists: Set<String>

    public init(recordings: [Recording], otherArtists: Set<String> = []) {
        knownArtists = otherArtists
        for recording in recordings.sorted(by: { $0.contentID < $1.contentID }) {
            byContent[recording.contentID] = recording
            if let isrc = recording.isrc, byISRC[isrc] == nil { byISRC[isrc] = recording }
            knownArtists.insert(recording.artistID)
        }
    }

    public func recording(content: String) -> Recording? { byContent[content] }

    public func recording(isrc: ISRC) -> Recording? { byISRC[isrc] }
}

/// Who is paid for a content at a time: its split rule in force, else the artist who published it (100 %); nil when
/// the content is unknown and has no rule.
public struct RightsHolders: Sendable {
    public let splits: SplitBook
    public let catalog: Catalog

    public init(splits: SplitBook, catalog: Catalog) {
        self.splits = splits
        self.catalog = catalog
    }

    /// Whether someone is paid for `content` at `time`.
    public func pay(content: String, at time: Int64) -> Bool {
        splits.rule(for: content, at: time) != nil || catalog.recording(content: content) != nil
    }

    /// `amount` of `content` split between its rights holders at `time` (Unix seconds), exactly.
    public func split(_ amount: Int64, content: String, at time: Int64) -> [(artist: String, amount: Int64)]? {
        if let rule = splits.rule(for: content, at: time) { return rule.split(amount) }
        if let recording = catalog.recording(content: content) { return [(recording.artistID, amount)] }
        return nil
    }
}
