import Testing
@testable import Segmenter

@Suite struct SegmentPlannerTests {
    /// Feeds frames at `fps` (a rate with an exact microsecond frame time) with a keyframe every `gop` frames.
    static func plan(frames: Int, fps: Int64, gop: Int, targetUs: Int64) -> [Int64] {
        let frameUs = 1_000_000 / fps
        var planner = SegmentPlanner(targetUs: targetUs, fallbackPacketUs: frameUs)
        for frame in 0..<frames {
            _ = planner.onReferencePacket(ptsUs: Int64(frame) * frameUs, durationUs: frameUs, isKeyframe: frame % gop == 0)
        }
        return planner.durations()
    }

    @Test func cutsAtTheFirstKeyframeAfterTheTarget() {
        #expect(Self.plan(frames: 500, fps: 25, gop: 50, targetUs: 6_000_000) == [6_000_000, 6_000_000, 6_000_000, 2_000_000])
        // GOP 2.5 s, target 6 s: the first keyframe at or after 6 s is at 7.5 s.
        #expect(Self.plan(frames: 400, fps: 20, gop: 50, targetUs: 6_000_000) == [7_500_000, 7_500_000, 5_000_000])
    }

    @Test func neverSplitsALongGOP() {
        #expect(Self.plan(frames: 250, fps: 25, gop: 125, targetUs: 2_000_000) == [5_000_000, 5_000_000])
    }

    @Test func dropsPacketsBeforeTheFirstKeyframe() {
        var planner = SegmentPlanner(targetUs: 1_000_000, fallbackPacketUs: 40_000)
        #expect(planner.onReferencePacket(ptsUs: 0, durationUs: 40_000, isKeyframe: false) == .dropLeading)
        #expect(planner.onReferencePacket(ptsUs: 40_000, durationUs: 40_000, isKeyframe: true) == .keep)
        #expect(planner.onReferencePacket(ptsUs: 520_000, durationUs: 40_000, isKeyframe: true) == .keyframe)
        #expect(planner.onReferencePacket(ptsUs: 1_040_000, durationUs: 0, isKeyframe: true) == .cut)
        #expect(planner.durations() == [1_000_000, 40_000])
        #expect(planner.mediaDurationUs == 1_040_000)
    }

    @Test func durationsAlwaysSumToTheMediaSpan() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            var planner = SegmentPlanner(targetUs: Int64.random(in: 500_000...8_000_000, using: &generator), fallbackPacketUs: 33_333)
            var pts: Int64 = Int64.random(in: 0...1_000_000, using: &generator)
            for _ in 0..<Int.random(in: 1...500, using: &generator) {
                _ = planner.onReferencePacket(ptsUs: pts, durationUs: 33_333, isKeyframe: Bool.random(using: &generator))
                pts += 33_333
            }
            #expect(planner.durations().reduce(0, +) == planner.mediaDurationUs)
        }
    }
}

@Suite struct CodecStringTests {
    @Test func avcFromAvcCAndAnnexB() {
        #expect(CodecString.avc(extradata: [0x01, 0x64, 0x00, 0x1f, 0xff], profile: 0, level: 0) == "avc1.64001f")
        #expect(CodecString.avc(extradata: [0, 0, 0, 1, 0x67, 0x4d, 0x40, 0x1e, 0xaa, 0, 0, 1, 0x68, 0xce], profile: 0, level: 0) == "avc1.4d401e")
        #expect(CodecString.avc(extradata: [], profile: 100, level: 40) == "avc1.640028")
    }

    @Test func hevcFromHvcC() {
        // Main profile, compatibility flags 0x60000000 (profiles 1 and 2), level 93, progressive+frame-only constraints.
        var hvcC: [UInt8] = [0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 93]
        hvcC += [UInt8](repeating: 0, count: 10)
        #expect(CodecString.hevc(extradata: hvcC) == "hvc1.1.6.L93.90")
        #expect(CodecString.hevc(extradata: [1, 2, 3]) == nil)
    }

    @Test func hevcFromAnnexBSPSWithEmulationPrevention() {
        // SPS NAL (type 33): header 0x42 0x01, then vps id/sub-layers byte, then profile_tier_level.
        let sps: [UInt8] = [0, 0, 0, 1, 0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x5d, 0xa0]
        #expect(CodecString.hevc(extradata: sps) == "hvc1.1.6.L93.90")
    }

    @Test func aacObjectTypes() {
        #expect(CodecString.aac(extradata: [0x12, 0x10], profile: 1) == "mp4a.40.2")
        #expect(CodecString.aac(extradata: [0x2b, 0x92], profile: 4) == "mp4a.40.5")
        #expect(CodecString.aac(extradata: [], profile: 28) == "mp4a.40.29")
    }
}

@Suite struct BoxRouterTests {
    static func box(_ type: String, payload: Int) -> [UInt8] {
        let size = UInt32(8 + payload)
        return [UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)]
            + Array(type.utf8) + [UInt8](repeating: 0xab, count: payload)
    }

    /// However the stream is sliced, ftyp+moov go to the init segment and everything from moof on to media.
    @Test func routesInitBoxesWhateverTheSlicing() {
        let initBytes = Self.box("ftyp", payload: 20) + Self.box("moov", payload: 700)
        let mediaBytes = Self.box("moof", payload: 100) + Self.box("mdat", payload: 5000)
        let stream = initBytes + mediaBytes
        for slice in [1, 3, 7, 8, 9, 64, 1000, stream.count] {
            var router = BoxRouter()
            var routedInit: [UInt8] = [], routedMedia: [UInt8] = []
            var offset = 0
            while offset < stream.count {
                let end = min(offset + slice, stream.count)
                let piece = Array(stream[offset..<end])
                for run in piece.withUnsafeBytes({ router.route($0) }) {
                    if run.destination == .initialization { routedInit += run.bytes } else { routedMedia += run.bytes }
                }
                offset = end
            }
            #expect(routedInit == initBytes, "slice \(slice)")
            #expect(routedMedia == mediaBytes, "slice \(slice)")
            #expect(router.passthrough)
        }
    }
}
