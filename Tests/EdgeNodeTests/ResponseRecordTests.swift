import Testing
@testable import EdgeNode

@Suite struct ResponseRecordTests {
    /// The route kind the request metrics are labelled with, from the path alone (query and fragment ignored).
    @Test func aRequestsKindComesFromItsPath() {
        let cases: [(String, ResponseRecord.Kind)] = [
            ("/song/720p/index.m3u8", .playlist), ("/song/master.m3u8?token=a.ts", .playlist), ("/song/steered.m3u8#x", .playlist),
            ("/song/manifest.json", .manifest), ("/song/720p/seg_00001.ts", .segment), ("/song/720p/seg_00001.m4s?x=1", .segment),
            ("/song/720p/init.mp4", .segment), ("/song/audio.aac", .segment), ("/song/720p/seg.ts?p=.m3u8", .segment),
            ("/song/x.m3u8/", .other), ("/metrics", .other), ("/a.json", .other), ("/?q=.m3u8", .other), ("", .other), ("ts", .other),
        ]
        for (uri, kind) in cases { #expect(ResponseRecord.Kind(uri: uri) == kind, "\(uri)") }
    }
}
