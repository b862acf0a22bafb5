import Foundation
import Testing
@testable import Manifest

/// HLS Content Steering: the steered multivariant playlist and the steering manifest, and the checker of their rules.
@Suite struct ContentSteeringTests {
    static let master = MasterPlaylist(independentSegments: true, variants: [
        .init(bandwidth: 1_009_184, averageBandwidth: 963_087, codecs: "avc1.64001e,mp4a.40.2", resolution: "640x360", frameRate: "30.000",
              uri: "360p/index.m3u8"),
        .init(bandwidth: 3_000_000, averageBandwidth: 2_800_000, codecs: "avc1.64001f,mp4a.40.2", resolution: "1280x720", frameRate: "30.000",
              uri: "720p/index.m3u8"),
    ])

    @Test func aSteeredPlaylistClonesEveryVariantPerPathway() throws {
        let steered = Self.master.steered(pathways: ["edge-paris", "edge-berlin"], serverURI: "http://127.0.0.2:8080/steering/clip",
                                          base: { "http://\($0).example/clip/" })
        #expect(steered.violations().isEmpty, "\(steered.violations())")
        #expect(steered.contentSteering == .init(serverURI: "http://127.0.0.2:8080/steering/clip", pathwayID: "edge-paris"))
        #expect(steered.variants.map(\.pathwayID) == ["edge-paris", "edge-paris", "edge-berlin", "edge-berlin"])
        #expect(steered.variants[2].uri == "http://edge-berlin.example/clip/360p/index.m3u8")
        let text = steered.render()
        #expect(text.contains("#EXT-X-CONTENT-STEERING:SERVER-URI=\"http://127.0.0.2:8080/steering/clip\",PATHWAY-ID=\"edge-paris\"\n"))
        #expect(text.contains(",PATHWAY-ID=\"edge-berlin\"\nhttp://edge-berlin.example/clip/720p/index.m3u8\n"))
        #expect(try MasterPlaylist.parse(text) == steered, "it parses back to the same playlist")
    }

    @Test func theCheckerFindsBrokenSteering() throws {
        var steered = Self.master.steered(pathways: ["a", "b"], serverURI: "https://x/steering", base: { "https://\($0)/" })
        var wrongStart = steered
        wrongStart.contentSteering?.pathwayID = "c"
        #expect(wrongStart.violations().map(\.message) == ["PATHWAY-ID \"c\" names no pathway of the playlist"])
        steered.variants.removeLast()
        #expect(steered.violations().contains { $0.message == "pathway \"b\" offers other variants than \"a\"" })
        var untagged = Self.master
        untagged.variants[0].pathwayID = "a"
        untagged.variants[1].pathwayID = "a"
        #expect(untagged.violations().map(\.message) == ["variants name pathways but there is no #EXT-X-CONTENT-STEERING"])
        var badName = Self.master.steered(pathways: ["edge 1"], serverURI: "https://x/s", base: { _ in "" })
        badName.contentSteering?.pathwayID = nil
        #expect(badName.violations().contains { $0.message.contains("PATHWAY-ID \"edge 1\" must be") })
        for (text, message) in [
            ("#EXTM3U\n#EXT-X-CONTENT-STEERING:SERVER-URI=\"a\"\n#EXT-X-CONTENT-STEERING:SERVER-URI=\"b\"\n", "appears twice"),
            ("#EXTM3U\n#EXT-X-CONTENT-STEERING:PATHWAY-ID=\"a\"\n", "without SERVER-URI"),
            ("#EXTM3U\n#EXT-X-CONTENT-STEERING:SERVER-URI=unquoted\n", "quoted-string"),
        ] {
            #expect(throws: PlaylistError.self, "\(message)") { try MasterPlaylist.parse(text) }
            do {
                _ = try MasterPlaylist.parse(text)
            } catch {
                #expect(error.description.contains(message), "\(error)")
            }
        }
    }

    @Test func theSteeringManifest() throws {
        let manifest = SteeringManifest(ttl: 15, reloadURI: "/steering/clip?session=1", pathwayPriority: ["edge-berlin", "edge-paris"])
        let json = try #require(String(data: manifest.encoded(), encoding: .utf8))
        #expect(json == #"{"PATHWAY-PRIORITY":["edge-berlin","edge-paris"],"RELOAD-URI":"\/steering\/clip?session=1","TTL":15,"VERSION":1}"#)
        #expect(try SteeringManifest.parse(manifest.encoded()) == manifest)
        var broken = manifest
        broken.version = 2
        broken.ttl = 0
        broken.pathwayPriority = ["a", "a", "b c"]
        #expect(broken.violations().map(\.message) == ["VERSION must be 1 (got 2)", "TTL must be a positive number of seconds (got 0)",
                                                       "PATHWAY-PRIORITY repeats a pathway", "pathway \"b c\" must be 1+ of A-Z a-z 0-9 . - _"])
        #expect(throws: PlaylistError.self) { try SteeringManifest.parse(Data(#"{"VERSION":1,"TTL":10}"#.utf8)) }
        #expect(throws: PlaylistError.self) { try SteeringManifest.parse(Data(#"{"VERSION":1,"TTL":10,"PATHWAY-PRIORITY":[]}"#.utf8)) }
    }
}
