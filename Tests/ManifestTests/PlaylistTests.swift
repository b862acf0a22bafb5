import Testing
@testable import Manifest

@Suite struct PlaylistTests {
    static let segments: [MediaPlaylist.Segment] = [
        .init(durationUs: 6_006_000, uri: "seg_00000.ts"), .init(durationUs: 5_005_000, uri: "seg_00001.ts"),
        .init(durationUs: 1_500_000, uri: "seg_00002.ts"),
    ]

    @Test func vodPlaylistFollowsTheRulesAndRoundTrips() throws {
        let playlist = MediaPlaylist.vod(segments: Self.segments, mapURI: nil)
        #expect(playlist.targetDuration == 7)
        #expect(playlist.version == 3)
        #expect(playlist.violations().isEmpty)
        #expect(try MediaPlaylist.parse(playlist.render()) == playlist)
        let fmp4 = MediaPlaylist.vod(segments: Self.segments.map { .init(durationUs: $0.durationUs, uri: $0.uri + ".m4s") }, mapURI: "init.mp4")
        #expect(fmp4.version == 6)
        #expect(fmp4.render().contains("#EXT-X-MAP:URI=\"init.mp4\"\n"))
        #expect(try MediaPlaylist.parse(fmp4.render()) == fmp4)
    }

    @Test func exactIntegerDurationsKeepTheTarget() {
        let playlist = MediaPlaylist.vod(segments: [.init(durationUs: 6_000_000, uri: "a.ts")], mapURI: nil)
        #expect(playlist.targetDuration == 6)
        #expect(playlist.render().contains("#EXTINF:6.000000,\n"))
    }

    @Test func violationsAreReported() {
        var playlist = MediaPlaylist.vod(segments: Self.segments, mapURI: nil)
        // 6.006 s rounds to 6, which RFC 8216 accepts; edgenode's rule (never below any EXTINF) does not.
        playlist.targetDuration = 6
        #expect(playlist.violations().map(\.rule) == ["edgenode", "edgenode"])
        playlist.targetDuration = 5
        #expect(playlist.violations().contains { $0.rule == "RFC 8216 §4.3.3.1" })
        playlist = MediaPlaylist.vod(segments: Self.segments, mapURI: nil)
        playlist.version = 2
        #expect(playlist.violations().contains { $0.rule == "RFC 8216 §7" })
        playlist = MediaPlaylist.vod(segments: Self.segments, mapURI: nil)
        playlist.endList = false
        #expect(playlist.violations().contains { $0.rule == "RFC 8216 §4.3.3.5" })
        playlist = MediaPlaylist.vod(segments: [.init(durationUs: 1_000_000, uri: "a.m4s")], mapURI: nil)
        #expect(playlist.violations().contains { $0.rule == "RFC 8216 §4.3.2.5" })
    }

    @Test func malformedPlaylistsAreErrorsWithLineNumbers() {
        let cases: [(String, Int)] = [
            ("#EXT-X-VERSION:3\n", 1),
            ("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-TARGETDURATION:6\n", 3),
            ("#EXTM3U\n#EXT-X-TARGETDURATION:6\na.ts\n", 3),
            ("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:abc,\na.ts\n", 3),
            ("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:1.0,\na.ts\n#EXT-X-MEDIA-SEQUENCE:1\n", 5),
            ("#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:1.0,\na.ts\n", 5),
            ("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:1.5,\na.ts\n", 3),
            ("#EXTM3U\n#EXT-X-TARGETDURATION:99999999999999999999\n", 2),
            ("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:6\n#EXT-X-MAP:URI=\"init.mp4\n", 4),
        ]
        for (text, line) in cases {
            do {
                _ = try MediaPlaylist.parse(text)
                Issue.record("accepted \(text.debugDescription)")
            } catch {
                #expect(error.line == line, "\(text.debugDescription): \(error)")
            }
        }
    }

    @Test func durationsParseExactly() {
        #expect(HLSDuration.parse("6") == 6_000_000)
        #expect(HLSDuration.parse("6.006") == 6_006_000)
        #expect(HLSDuration.parse("0.0000005") == 1)
        #expect(HLSDuration.parse("-1") == nil)
        #expect(HLSDuration.parse("1e3") == nil)
        #expect(HLSDuration.parse("") == nil)
        #expect(HLSDuration.format(6_006_000) == "6.006000")
        #expect(HLSDuration.format(5) == "0.000005")
    }

    @Test func masterPlaylistRoundTripsAndValidates() throws {
        let master = MasterPlaylist(independentSegments: true, variants: [
            .init(bandwidth: 2_000_000, averageBandwidth: 1_800_000, codecs: "avc1.64001f,mp4a.40.2",
                  resolution: "1280x720", frameRate: "30.000", uri: "720p/index.m3u8"),
        ])
        #expect(master.violations().isEmpty)
        #expect(try MasterPlaylist.parse(master.render()) == master)
        #expect(master.render().contains("CODECS=\"avc1.64001f,mp4a.40.2\""))
        var broken = master
        broken.variants[0].codecs = nil
        #expect(broken.violations().map(\.rule) == ["Apple 9.1"])
        broken = master
        broken.variants[0].averageBandwidth = 3_000_000
        broken.variants[0].frameRate = nil
        broken.variants[0].resolution = "1280"
        broken.independentSegments = false
        #expect(Set(broken.violations().map(\.rule)) == ["RFC 8216 §4.3.4.2", "Apple 9.15", "Apple 9.2", "Apple 9.11"])
    }

    @Test func attributeListsHandleQuotedCommas() throws {
        let attributes = try AttributeList.parse("BANDWIDTH=1,CODECS=\"a,b\",RESOLUTION=2x3", line: 1)
        #expect(attributes == ["BANDWIDTH": "1", "CODECS": "a,b", "RESOLUTION": "2x3"])
        for bad in ["BANDWIDTH", "A=1,A=2", "A=\"x", "A=1,", "a=1", "URI=init.mp4", "A=x\"y", "CODECS=avc1"] {
            #expect(throws: PlaylistError.self, "\(bad)") { try AttributeList.parse(Substring(bad), line: 1) }
        }
    }
}
