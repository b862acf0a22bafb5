/// An RFC 8216 media playlist as edgenode writes and reads it (VOD and event; no encryption, no byte ranges).
public struct MediaPlaylist: Equatable, Sendable {
    /// EXT-X-PLAYLIST-TYPE values.
    public enum PlaylistType: String, Sendable {
        case vod = "VOD"
        case event = "EVENT"
    }

    /// One media segment.
    public struct Segment: Equatable, Sendable {
        public var durationUs: Int64
        public var uri: String
        public init(durationUs: Int64, uri: String) {
            self.durationUs = durationUs
            self.uri = uri
        }
    }

    public var version: Int
    public var targetDuration: Int
    public var mediaSequence: Int
    public var playlistType: PlaylistType?
    public var independentSegments: Bool
    /// EXT-X-MAP URI (fMP4 init segment), applying to every segment.
    public var mapURI: String?
    public var segments: [Segment]
    public var endList: Bool

    public init(version: Int, targetDuration: Int, mediaSequence: Int = 0, playlistType: PlaylistType?,
                independentSegments: Bool, mapURI: String?, segments: [Segment], endList: Bool) {
        self.version = version
        self.targetDuration = targetDuration
        self.mediaSequence = mediaSequence
        self.playlistType = playlistType
        self.independentSegments = independentSegments
        self.mapURI = mapURI
        self.segments = segments
        self.endList = endList
    }

    /// A complete VOD playlist with the target duration and version computed by the rules edgenode follows:
    /// TARGETDURATION = ceil(max EXTINF), the minimal EXT-X-VERSION of RFC 8216 §7.
    public static func vod(segments: [Segment], mapURI: String?) -> MediaPlaylist {
        let longest = segments.map(\.durationUs).max() ?? 0
        return MediaPlaylist(
            version: minimumVersion(segments: segments, mapURI: mapURI),
            targetDuration: max(1, HLSDuration.ceilSeconds(longest)), playlistType: .vod,
            independentSegments: true, mapURI: mapURI, segments: segments, endList: true)
    }

    /// The lowest protocol version the features used require (RFC 8216 §7): 6 for EXT-X-MAP without
    /// I-frames-only, else 3, because EXTINF is always written as a decimal-floating-point number.
    public static func minimumVersion(segments: [Segment], mapURI: String?) -> Int {
        mapURI != nil ? 6 : 3
    }

    /// The playlist text.
    public func render() -> String {
        var lines = ["#EXTM3U", "#EXT-X-VERSION:\(version)", "#EXT-X-TARGETDURATION:\(targetDuration)",
                     "#EXT-X-MEDIA-SEQUENCE:\(mediaSequence)"]
        if let playlistType { lines.append("#EXT-X-PLAYLIST-TYPE:\(playlistType.rawValue)") }
        if independentSegments { lines.append("#EXT-X-INDEPENDENT-SEGMENTS") }
        if let mapURI { lines.append("#EXT-X-MAP:URI=\"\(mapURI)\"") }
        for segment in segments {
            lines.append("#EXTINF:\(HLSDuration.format(segment.durationUs)),")
            lines.append(segment.uri)
        }
        if endList { lines.append("#EXT-X-ENDLIST") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses a media playlist strictly: duplicate tags, tags out of place and malformed values are errors.
    public static func parse(_ text: String) throws(PlaylistError) -> MediaPlaylist {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        guard lines.first == "#EXTM3U" else { throw PlaylistError(line: 1, "first line must be #EXTM3U") }
        var version: Int?
        var target: Int?
        var sequence: Int?
        var type: PlaylistType?
        var independent = false
        var map: String?
        var segments: [Segment] = []
        var pendingDuration: Int64?
        var endList = false
        var seen: Set<Substring> = []
        for (offset, line) in lines.enumerated().dropFirst() {
            let number = offset + 1
            if line.isEmpty { continue }
            if endList && !line.hasPrefix("#") { throw PlaylistError(line: number, "URI after #EXT-X-ENDLIST") }
            guard line.hasPrefix("#") else {
                guard let duration = pendingDuration else { throw PlaylistError(line: number, "URI without a preceding #EXTINF") }
                segments.append(Segment(durationUs: duration, uri: String(line)))
                pendingDuration = nil
                continue
            }
            guard line.hasPrefix("#EXT") else { continue }
            let colon = line.firstIndex(of: ":")
            let tag = colon.map { line[..<$0] } ?? line
            let value = colon.map { line[line.index(after: $0)...] } ?? ""
            if tag != "#EXTINF" {
                guard !seen.contains(tag) else { throw PlaylistError(line: number, "\(tag) appears twice") }
                seen.insert(tag)
            }
            switch tag {
            case "#EXTM3U": throw PlaylistError(line: number, "#EXTM3U appears twice")
            case "#EXT-X-VERSION": version = try integer(value, line: number, tag: tag)
            case "#EXT-X-TARGETDURATION":
                guard segments.isEmpty else { throw PlaylistError(line: number, "\(tag) after the first segment") }
                target = try integer(value, line: number, tag: tag)
            case "#EXT-X-MEDIA-SEQUENCE":
                guard segments.isEmpty else { throw PlaylistError(line: number, "\(tag) after the first segment (RFC 8216 §4.3.3.2)") }
                sequence = try integer(value, line: number, tag: tag)
            case "#EXT-X-PLAYLIST-TYPE":
                guard let parsed = PlaylistType(rawValue: String(value)) else {
                    throw PlaylistError(line: number, "unknown playlist type \"\(value)\"")
                }
                type = parsed
            case "#EXT-X-INDEPENDENT-SEGMENTS": independent = true
            case "#EXT-X-MAP":
                guard segments.isEmpty, pendingDuration == nil else {
                    throw PlaylistError(line: number, "only a single #EXT-X-MAP before the first segment is supported")
                }
                let attributes = try AttributeList.parse(value, line: number)
                guard let uri = attributes["URI"], !uri.isEmpty else { throw PlaylistError(line: number, "#EXT-X-MAP without URI") }
                guard attributes["BYTERANGE"] == nil else { throw PlaylistError(line: number, "#EXT-X-MAP BYTERANGE is not supported") }
                map = uri
            case "#EXTINF":
                guard pendingDuration == nil else { throw PlaylistError(line: number, "#EXTINF without a URI before it") }
                let durationText = value.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)[0]
                guard let duration = HLSDuration.parse(durationText) else {
                    throw PlaylistError(line: number, "invalid #EXTINF duration \"\(durationText)\"")
                }
                pendingDuration = duration
            case "#EXT-X-ENDLIST": endList = true
            default:
                throw PlaylistError(line: number, "unsupported tag \(tag)")
            }
        }
        if pendingDuration != nil { throw PlaylistError(line: lines.count, "#EXTINF without a URI at end of playlist") }
        if (version ?? 1) < 3, let line = lines.firstIndex(where: { $0.hasPrefix("#EXTINF:") && $0.prefix(while: { $0 != "," }).contains(".") }) {
            throw PlaylistError(line: line + 1, "decimal #EXTINF needs EXT-X-VERSION 3 or above (RFC 8216 §7)")
        }
        guard let target else { throw PlaylistError(line: lines.count, "missing #EXT-X-TARGETDURATION (RFC 8216 §4.3.3.1)") }
        return MediaPlaylist(version: version ?? 1, targetDuration: target, mediaSequence: sequence ?? 0,
                             playlistType: type, independentSegments: independent, mapURI: map,
                             segments: segments, endList: endList)
    }

    static func integer(_ value: Substring, line: Int, tag: Substring) throws(PlaylistError) -> Int {
        guard !value.isEmpty, value.count <= 18, value.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(value) else {
            throw PlaylistError(line: line, "\(tag) needs a decimal integer, got \"\(value)\"")
        }
        return n
    }

    /// Every rule this playlist breaks; empty when it is a correct edgenode VOD playlist.
    public func violations() -> [PlaylistViolation] {
        var found: [PlaylistViolation] = []
        if segments.isEmpty { found.append(.init("edgenode", "playlist has no segments")) }
        for (index, segment) in segments.enumerated() {
            if segment.durationUs <= 0 { found.append(.init("edgenode", "segment \(index) has a non-positive duration")) }
            if HLSDuration.roundedSeconds(segment.durationUs) > targetDuration {
                found.append(.init("RFC 8216 §4.3.3.1", "EXTINF of segment \(index) rounds above TARGETDURATION \(targetDuration)"))
            }
            if segment.durationUs > Int64(targetDuration) * 1_000_000 {
                found.append(.init("edgenode", "EXTINF of segment \(index) exceeds TARGETDURATION \(targetDuration)"))
            }
        }
        if let longest = segments.map(\.durationUs).max(), targetDuration != max(1, HLSDuration.ceilSeconds(longest)) {
            found.append(.init("edgenode", "TARGETDURATION \(targetDuration) is not ceil(max EXTINF) = \(HLSDuration.ceilSeconds(longest))"))
        }
        let minimum = Self.minimumVersion(segments: segments, mapURI: mapURI)
        if version < minimum { found.append(.init("RFC 8216 §7", "EXT-X-VERSION \(version) is below the required \(minimum)")) }
        if version > minimum { found.append(.init("edgenode", "EXT-X-VERSION \(version) is above the minimal \(minimum)")) }
        if playlistType == .vod && !endList { found.append(.init("RFC 8216 §4.3.3.5", "VOD playlist without #EXT-X-ENDLIST")) }
        if playlistType != .vod { found.append(.init("Apple 8.6", "file-based content must be EXT-X-PLAYLIST-TYPE:VOD")) }
        let fmp4 = segments.contains { $0.uri.hasSuffix(".m4s") || $0.uri.hasSuffix(".mp4") }
        if fmp4 && mapURI == nil { found.append(.init("RFC 8216 §4.3.2.5", "fMP4 segments without #EXT-X-MAP")) }
        return found
    }
}
