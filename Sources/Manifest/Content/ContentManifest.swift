import struct Foundation.Data
import class Foundation.JSONDecoder
import class Foundation.JSONEncoder

/// `manifest.json`: everything a node or viewer needs to verify a published content directory, byte by byte,
/// from one Ed25519 signature.
///
/// The Merkle tree has the metadata leaf first, then one leaf per file in ascending path order. The signature is a
/// C2SP signed note over a checkpoint (`edgenode.manifest/<content id>`, leaf count, root).
public struct ContentManifest: Codable, Sendable, Equatable {
    /// The format version this code writes and reads.
    public static let currentVersion = 1
    /// Largest manifest accepted for parsing.
    public static let maximumSize = 64 * 1024 * 1024

    /// Versions of the libav libraries that produced the media bytes.
    public struct LibAVVersions: Codable, Sendable, Equatable {
        public var avformat: String
        public var avcodec: String
        public var avutil: String
        public init(avformat: String, avcodec: String, avutil: String) {
            self.avformat = avformat
            self.avcodec = avcodec
            self.avutil = avutil
        }
    }

    /// One media segment of a rendition.
    public struct Segment: Codable, Sendable, Equatable {
        public var path: String
        /// EXTINF in integer microseconds.
        public var durationUs: Int64
        public init(path: String, durationUs: Int64) {
            self.path = path
            self.durationUs = durationUs
        }
    }

    /// One variant stream (its media playlist, optional init segment and segments).
    public struct Rendition: Codable, Sendable, Equatable {
        public var id: String
        public var playlist: String
        public var initSegment: String?
        public var bandwidth: Int
        public var averageBandwidth: Int
        public var codecs: String
        public var resolution: String?
        public var frameRate: String?
        public var targetDuration: Int
        public var segments: [Segment]

        public init(id: String, playlist: String, initSegment: String?, bandwidth: Int, averageBandwidth: Int,
                    codecs: String, resolution: String?, frameRate: String?, targetDuration: Int, segments: [Segment]) {
            self.id = id
            self.playlist = playlist
            self.initSegment = initSegment
            self.bandwidth = bandwidth
            self.averageBandwidth = averageBandwidth
            self.codecs = codecs
            self.resolution = resolution
            self.frameRate = frameRate
            self.targetDuration = targetDuration
            self.segments = segments
        }
    }

    /// One file with the data needed to verify any 64 KiB chunk of it.
    public struct File: Codable, Sendable, Equatable {
        public var path: String
        public var size: Int64
        /// Hex root of the file's chunk tree.
        public var chunkRoot: String
        /// Base64 of the concatenated 32-byte chunk leaf hashes.
        public var chunks: String

        public init(path: String, chunkList: ChunkList) {
            self.path = path
            size = chunkList.size
            chunkRoot = chunkList.root.hex
            chunks = Base64.encode(chunkList.hashes.flatMap(\.bytes))
        }
    }

    /// The descriptive part that the metadata leaf commits to.
    public struct Description: Sendable, Equatable {
        public var contentID: String
        public var artistID: String
        public var title: String
        public var format: String
        public var libav: LibAVVersions
        public var chunkSize: Int
        public var master: String
        public var renditions: [Rendition]
        /// The recording's ISRC (twelve characters), when the content has one.
        public var isrc: String?

        public init(contentID: String, artistID: String, title: String, format: String, libav: LibAVVersions,
                    chunkSize: Int, master: String, renditions: [Rendition], isrc: String? = nil) {
            self.isrc = isrc
            self.contentID = contentID
            self.artistID = artistID
            self.title = title
            self.format = format
            self.libav = libav
            self.chunkSize = chunkSize
            self.master = master
            self.renditions = renditions
        }
    }

    public var version: Int
    public var contentID: String
    public var artistID: String
    public var title: String
    public var format: String
    public var libav: LibAVVersions
    public var chunkSize: Int
    public var master: String
    public var renditions: [Rendition]
    /// The recording's ISRC (twelve characters, no hyphens), when the content has one; committed to by the metadata
    /// leaf.
    public var isrc: String?
    public var files: [File]
    public var treeSize: Int
    public var root: String
    public var keyName: String
    public var keyID: String
    /// The whole C2SP signed note (checkpoint body, blank line, signature line).
    public var signedNote: String

    enum CodingKeys: String, CodingKey {
        case version, contentID = "contentId", artistID = "artistId", title, format, libav, chunkSize, master
        case renditions, isrc, files, treeSize, root, keyName, keyID = "keyId", signedNote
    }

    /// The checkpoint origin line for a content id.
    public static func checkpointOrigin(contentID: String) -> String { "edgenode.manifest/\(contentID)" }

    /// The descriptive part.
    public var contentDescription: Description {
        Description(contentID: contentID, artistID: artistID, title: title, format: format, libav: libav,
                    chunkSize: chunkSize, master: master, renditions: renditions, isrc: isrc)
    }

    /// Builds and signs a manifest over `files` (path → chunk list).
    public static func build(
        description: Description, files: [String: ChunkList], signer: NoteSigner
    ) throws(ManifestError) -> ContentManifest {
        try validateIdentifier(description.contentID, field: "content id")
        try validateIdentifier(description.artistID, field: "artist id")
        try validateISRC(description.isrc)
        let paths = files.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        var tree = MerkleTree()
        tree.append(leafHash: RFC9162.leafHash(LeafEncoding.metadata(metadataPairs(description))))
        var entries: [File] = []
        for path in paths {
            try validatePath(path)
            let list = files[path]!
            guard list.chunkSize == description.chunkSize else {
                throw .badChunkList(path: path, reason: "chunk size \(list.chunkSize) differs from \(description.chunkSize)")
            }
            tree.append(leafHash: fileLeafHash(path: path, list: list))
            entries.append(File(path: path, chunkList: list))
        }
        let checkpoint: Checkpoint
        let note: SignedNote
        do {
            checkpoint = try Checkpoint(origin: checkpointOrigin(contentID: description.contentID),
                                        size: tree.size, root: tree.root())
            note = try signer.sign(text: checkpoint.text)
        } catch {
            throw .signature(error)
        }
        return ContentManifest(
            version: currentVersion, contentID: description.contentID, artistID: description.artistID,
            title: description.title, format: description.format, libav: description.libav,
            chunkSize: description.chunkSize, master: description.master, renditions: description.renditions,
            isrc: description.isrc, files: entries, treeSize: tree.size, root: tree.root().hex, keyName: signer.name,
            keyID: signer.verifier.keyIDHex, signedNote: note.rendered)
    }

    /// The leaf hash of one file.
    public static func fileLeafHash(path: String, list: ChunkList) -> MerkleHash {
        RFC9162.leafHash(LeafEncoding.file(path: path, size: list.size, chunkSize: list.chunkSize, chunkRoot: list.root))
    }

    /// The key/value pairs of the metadata leaf.
    public static func metadataPairs(_ d: Description) -> [String: String] {
        var pairs: [String: String] = [
            "version": String(currentVersion), "content": d.contentID, "artist": d.artistID, "title": d.title,
            "format": d.format, "libavformat": d.libav.avformat, "libavcodec": d.libav.avcodec,
            "libavutil": d.libav.avutil, "chunk-size": String(d.chunkSize), "master": d.master,
            "renditions": String(d.renditions.count),
        ]
        if let isrc = d.isrc { pairs["isrc"] = isrc }
        for (i, r) in d.renditions.enumerated() {
            let p = "rendition.\(i)."
            pairs[p + "id"] = r.id
            pairs[p + "playlist"] = r.playlist
            pairs[p + "init"] = r.initSegment ?? ""
            pairs[p + "bandwidth"] = String(r.bandwidth)
            pairs[p + "average-bandwidth"] = String(r.averageBandwidth)
            pairs[p + "codecs"] = r.codecs
            pairs[p + "resolution"] = r.resolution ?? ""
            pairs[p + "frame-rate"] = r.frameRate ?? ""
            pairs[p + "target-duration"] = String(r.targetDuration)
            pairs[p + "segments"] = String(r.segments.count)
            for (j, s) in r.segments.enumerated() {
                pairs[p + "segment.\(j)"] = "\(s.path) \(s.durationUs)"
            }
        }
        return pairs
    }

    /// Accepts an absent ISRC or its canonical twelve characters (`ISRC` parses what people write).
    public static func validateISRC(_ value: String?) throws(ManifestError) {
        guard let value else { return }
        guard (try? ISRC(value))?.code == value else { throw .malformed("isrc \"\(value.prefix(40))\" is not twelve characters CCXXXYYNNNNN") }
    }

    /// Accepts 1-128 of A-Z a-z 0-9 . _ - not starting with a dot.
    public static func validateIdentifier(_ value: String, field: String) throws(ManifestError) {
        let ok = (1...128).contains(value.utf8.count) && !value.hasPrefix(".") && value.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
        }
        guard ok else { throw .invalidIdentifier(field: field, value: value) }
    }

    /// Accepts only relative paths made of ordinary components.
    public static func validatePath(_ path: String) throws(ManifestError) {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        let ok = !path.isEmpty && path.utf8.count <= 1024
            && components.allSatisfy { $0 != "" && $0 != "." && $0 != ".." }
            && !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f || $0 == "\\" })
        guard ok else { throw .invalidPath(path) }
    }

    // MARK: JSON

    /// Canonical JSON: sorted keys, two-space indentation, trailing newline.
    public func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail.
        var data = try! encoder.encode(self)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// Parses `manifest.json`, bounded in size.
    public static func parse(_ data: Data) throws(ManifestError) -> ContentManifest {
        guard data.count <= maximumSize else { throw .malformed("larger than \(maximumSize) bytes") }
        let manifest: ContentManifest
        do {
            manifest = try JSONDecoder().decode(ContentManifest.self, from: data)
        } catch {
            throw .malformed("not valid manifest JSON (\(error))")
        }
        guard manifest.version == currentVersion else { throw .unsupportedVersion(manifest.version) }
        try validateISRC(manifest.isrc)
        return manifest
    }
}
