/// An RFC 8216 master playlist listing variant streams.
public struct MasterPlaylist: Equatable, Sendable {
    /// One EXT-X-STREAM-INF and its URI.
    public struct Variant: Equatable, Sendable {
        public var bandwidth: Int
        public var averageBandwidth: Int?
        public var codecs: String?
        public var resolution: String?
        public var frameRate: String?
        /// HLS Content Steering: the pathway (CDN, here a node) this variant is served through; nil is pathway ".".
        public var pathwayID: String?
        public var uri: String

        public init(bandwidth: Int, averageBandwidth: Int?, codecs: String?, resolution: String?,
                    frameRate: String?, pathwayID: String? = nil, uri: String) {
            self.bandwidth = bandwidth
            self.averageBandwidth = averageBandwidth
            self.codecs = codecs
            self.resolution = resolution
            self.frameRate = frameRate
            self.pathwayID = pathwayID
            self.uri = uri
        }
    }

    /// `#EXT-X-CONTENT-STEERING`: where the steering manifest is, and the pathway to start on.
    public struct ContentSteering: Equatable, Sendable {
        public var serverURI: String
        public var pathwayID: String?

        public init(serverURI: String, pathwayID: String?) {
            self.serverURI = serverURI
            self.pathwayID = pathwayID
        }
    }

    public var independentSegments: Bool
    public var contentSteering: ContentSteering?
    public var variants: [Variant]

    public init(independentSegments: Bool, contentSteering: ContentSteering? = nil, variants: [Variant]) {
        self.independentSegments = independentSegments
        self.contentSteering = contentSteering
        self.variants = variants
    }

    /// This playlist with its variants cloned once per pathway, in `pathways` order: each clone's URI is
    /// `base(pathway)` followed by the variant's URI, and carries `PATHWAY-ID`; the steering tag names `serverURI`
    /// and starts on the first pathway.
    public func steered(pathways: [String], serverURI: String, base: (String) -> String) -> MasterPlaylist {
        var clones: [Variant] = []
        for pathway in pathways {
            for variant in variants {
                var clone = variant
                clone.pathwayID = pathway
                clone.uri = base(pathway) + variant.uri
                clones.append(clone)
            }
        }
        return MasterPlaylist(independentSegments: independentSegments,
                              contentSteering: ContentSteering(serverURI: serverURI, pathwayID: pathways.first), variants: clones)
    }

    /// The playlist text. No EXT-X-VERSION: nothing in it needs a version above 1.
    public func render() -> String {
        var lines = ["#EXTM3U"]
        if independentSegments { lines.append("#EXT-X-INDEPENDENT-SEGMENTS") }
        if let steering = contentSteering {
            var attributes = ["SERVER-URI=\"\(steering.serverURI)\""]
            if let pathway = steering.pathwayID { attributes.append("PATHWAY-ID=\"\(pathway)\"") }
            lines.append("#EXT-X-CONTENT-STEERING:" + attributes.joined(separator: ","))
        }
        for variant in variants {
            var attributes = ["BANDWIDTH=\(variant.bandwidth)"]
            if let average = variant.averageBandwidth { attributes.append("AVERAGE-BANDWIDTH=\(average)") }
            if let codecs = variant.codecs { attributes.append("CODECS=\"\(codecs)\"") }
            if let resolution = variant.resolution { attributes.append("RESOLUTION=\(resolution)") }
            if let frameRate = variant.frameRate { attributes.append("FRAME-RATE=\(frameRate)") }
            if let pathway = variant.pathwayID { attributes.append("PATHWAY-ID=\"\(pathway)\"") }
            lines.append("#EXT-X-STREAM-INF:" + attributes.joined(separator: ","))
            lines.append(variant.uri)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses a master playlist strictly.
    public static func parse(_ text: String) throws(PlaylistError) -> MasterPlaylist {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        guard lines.first == "#EXTM3U" else { throw PlaylistError(line: 1, "first line must be #EXTM3U") }
        var independent = false
        var steering: ContentSteering?
        var variants: [Variant] = []
        var pending: [String: String]?
        for (offset, line) in lines.enumerated().dropFirst() {
            let number = offset + 1
            if line.isEmpty { continue }
            if !line.hasPrefix("#") {
                guard let attributes = pending else { throw PlaylistError(line: number, "URI without #EXT-X-STREAM-INF") }
                guard let bandwidthText = attributes["BANDWIDTH"] else {
                    throw PlaylistError(line: number - 1, "EXT-X-STREAM-INF without BANDWIDTH (RFC 8216 §4.3.4.2)")
                }
                let bandwidth = try MediaPlaylist.integer(Substring(bandwidthText), line: number - 1, tag: "BANDWIDTH")
                let average = try attributes["AVERAGE-BANDWIDTH"].map { text throws(PlaylistError) in
                    try MediaPlaylist.integer(Substring(text), line: number - 1, tag: "AVERAGE-BANDWIDTH")
                }
                variants.append(Variant(bandwidth: bandwidth, averageBandwidth: average, codecs: attributes["CODECS"],
                                        resolution: attributes["RESOLUTION"], frameRate: attributes["FRAME-RATE"],
                                        pathwayID: attributes["PATHWAY-ID"], uri: String(line)))
                pending = nil
                continue
            }
            if line == "#EXT-X-INDEPENDENT-SEGMENTS" {
                guard !independent else { throw PlaylistError(line: number, "#EXT-X-INDEPENDENT-SEGMENTS appears twice") }
                independent = true
            } else if line.hasPrefix("#EXT-X-CONTENT-STEERING:") {
                guard steering == nil else { throw PlaylistError(line: number, "#EXT-X-CONTENT-STEERING appears twice") }
                let attributes = try AttributeList.parse(line.dropFirst("#EXT-X-CONTENT-STEERING:".count), line: number)
                guard let server = attributes["SERVER-URI"] else { throw PlaylistError(line: number, "EXT-X-CONTENT-STEERING without SERVER-URI") }
                steering = ContentSteering(serverURI: server, pathwayID: attributes["PATHWAY-ID"])
            } else if line.hasPrefix("#EXT-X-STREAM-INF:") {
                guard pending == nil else { throw PlaylistError(line: number, "EXT-X-STREAM-INF without a URI before it") }
                pending = try AttributeList.parse(line.dropFirst("#EXT-X-STREAM-INF:".count), line: number)
            } else if line.hasPrefix("#EXTINF") || line.hasPrefix("#EXT-X-TARGETDURATION") {
                throw PlaylistError(line: number, "media playlist tag in a master playlist")
            } else if line.hasPrefix("#EXT") && !line.hasPrefix("#EXT-X-VERSION") {
                throw PlaylistError(line: number, "unsupported tag \(line.prefix(while: { $0 != ":" }))")
            }
        }
        if pending != nil { throw PlaylistError(line: lines.count, "EXT-X-STREAM-INF without a URI at end") }
        return MasterPlaylist(independentSegments: independent, contentSteering: steering, variants: variants)
    }

    /// Every rule this playlist breaks (RFC 8216 §4.3.4.2 and Apple's authoring specification §9).
    public func violations() -> [PlaylistViolation] {
        var found: [PlaylistViolation] = []
        if variants.isEmpty { found.append(.init("edgenode", "no variant streams")) }
        if !independentSegments { found.append(.init("Apple 9.11", "missing #EXT-X-INDEPENDENT-SEGMENTS")) }
        for (index, variant) in variants.enumerated() {
            let name = "variant \(index) (\(variant.uri))"
            if variant.bandwidth <= 0 { found.append(.init("RFC 8216 §4.3.4.2", "\(name): BANDWIDTH must be positive")) }
            guard let codecs = variant.codecs, !codecs.isEmpty else {
                found.append(.init("Apple 9.1", "\(name): CODECS missing"))
                continue
            }
            if let average = variant.averageBandwidth {
                if average <= 0 || average > variant.bandwidth {
                    found.append(.init("RFC 8216 §4.3.4.2", "\(name): AVERAGE-BANDWIDTH must be in 1...BANDWIDTH"))
                }
            } else {
                found.append(.init("Apple 9.14", "\(name): AVERAGE-BANDWIDTH missing"))
            }
            if let pathway = variant.pathwayID, !ContentSteeringRules.isPathwayID(pathway) {
                found.append(.init("HLS Content Steering", "\(name): PATHWAY-ID \"\(pathway)\" must be 1+ of A-Z a-z 0-9 . - _"))
            }
            let hasVideo = codecs.split(separator: ",").contains { $0.hasPrefix("avc1") || $0.hasPrefix("hvc1") || $0.hasPrefix("hev1") }
            if hasVideo {
                let resolutionOK = variant.resolution.map { value in
                    let parts = value.split(separator: "x")
                    return parts.count == 2 && parts.allSatisfy { Int($0).map { $0 > 0 } ?? false }
                } ?? false
                if !resolutionOK { found.append(.init("Apple 9.2", "\(name): RESOLUTION missing or malformed")) }
                if variant.frameRate.flatMap(Double.init).map({ $0 > 0 }) != true {
                    found.append(.init("Apple 9.15", "\(name): FRAME-RATE missing or malformed"))
                }
            }
        }
        found += ContentSteeringRules.violations(of: self)
        return found
    }
}
