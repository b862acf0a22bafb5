import struct Foundation.Data
import class Foundation.JSONDecoder
import class Foundation.JSONEncoder

/// An HLS Content Steering manifest (Apple's HLS Content Steering Specification; the JSON a player reloads every
/// `TTL` seconds to learn the pathway priority).
public struct SteeringManifest: Codable, Equatable, Sendable {
    /// Must be 1 (hls.js ignores other versions).
    public var version: Int
    /// Seconds until the player reloads the manifest.
    public var ttl: Int
    /// Where to reload from, if not the same URI.
    public var reloadURI: String?
    /// Pathway ids, most preferred first.
    public var pathwayPriority: [String]

    enum CodingKeys: String, CodingKey {
        case version = "VERSION"
        case ttl = "TTL"
        case reloadURI = "RELOAD-URI"
        case pathwayPriority = "PATHWAY-PRIORITY"
    }

    public init(ttl: Int, reloadURI: String?, pathwayPriority: [String]) {
        version = 1
        self.ttl = ttl
        self.reloadURI = reloadURI
        self.pathwayPriority = pathwayPriority
    }

    /// The JSON, keys sorted.
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)) ?? Data()
    }

    /// Parses and checks a manifest: a decoding error or the first rule broken.
    public static func parse(_ data: Data) throws(PlaylistError) -> SteeringManifest {
        let manifest: SteeringManifest
        do {
            manifest = try JSONDecoder().decode(SteeringManifest.self, from: data)
        } catch {
            throw PlaylistError(line: 1, "not a steering manifest: \(error)")
        }
        if let broken = manifest.violations().first { throw PlaylistError(line: 1, broken.description) }
        return manifest
    }

    /// Every rule this manifest breaks.
    public func violations() -> [PlaylistViolation] {
        var found: [PlaylistViolation] = []
        if version != 1 { found.append(.init("HLS Content Steering", "VERSION must be 1 (got \(version))")) }
        if ttl <= 0 { found.append(.init("HLS Content Steering", "TTL must be a positive number of seconds (got \(ttl))")) }
        if pathwayPriority.isEmpty { found.append(.init("HLS Content Steering", "PATHWAY-PRIORITY is empty")) }
        if Set(pathwayPriority).count != pathwayPriority.count { found.append(.init("HLS Content Steering", "PATHWAY-PRIORITY repeats a pathway")) }
        for pathway in pathwayPriority where !ContentSteeringRules.isPathwayID(pathway) {
            found.append(.init("HLS Content Steering", "pathway \"\(pathway)\" must be 1+ of A-Z a-z 0-9 . - _"))
        }
        return found
    }
}

/// The rules a steered multivariant playlist must follow (Apple's HLS Content Steering Specification and WWDC22
/// session 10144): one steering tag with a SERVER-URI; its PATHWAY-ID names a pathway of the playlist; every pathway
/// offers the same variants (differing only in URIs).
enum ContentSteeringRules {
    static func isPathwayID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte == 0x2e || byte == 0x2d || byte == 0x5f
        }
    }

    static func violations(of playlist: MasterPlaylist) -> [PlaylistViolation] {
        var found: [PlaylistViolation] = []
        let pathways = Dictionary(grouping: playlist.variants) { $0.pathwayID ?? "." }
        if let steering = playlist.contentSteering {
            if steering.serverURI.isEmpty { found.append(.init("HLS Content Steering", "SERVER-URI is empty")) }
            if let start = steering.pathwayID, pathways[start] == nil {
                found.append(.init("HLS Content Steering", "PATHWAY-ID \"\(start)\" names no pathway of the playlist"))
            }
        } else if playlist.variants.contains(where: { $0.pathwayID != nil }) {
            found.append(.init("HLS Content Steering", "variants name pathways but there is no #EXT-X-CONTENT-STEERING"))
        }
        func shape(_ variant: MasterPlaylist.Variant) -> String {
            "\(variant.bandwidth)|\(variant.averageBandwidth ?? -1)|\(variant.codecs ?? "")|\(variant.resolution ?? "")|\(variant.frameRate ?? "")"
        }
        let shapes = pathways.mapValues { $0.map(shape).sorted() }
        if let reference = shapes.min(by: { $0.key < $1.key }) {
            for (pathway, variants) in shapes where variants != reference.value {
                found.append(.init("HLS Content Steering", "pathway \"\(pathway)\" offers other variants than \"\(reference.key)\""))
            }
        }
        return found
    }
}
