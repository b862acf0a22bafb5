import ArgumentParser
import EdgeNode
import Foundation
import Manifest
import Segmenter

struct SegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Remux a media file into HLS with a signed Merkle manifest (origin)."
    )

    @Argument(help: "Input media: MP4/MOV, Matroska or MPEG-TS with H.264/H.265 and AAC/MP3/AC-3/E-AC-3.")
    var input: String

    @Option(name: .long, help: "Output directory; must not exist unless --force.")
    var out: String

    @Option(name: .long, help: "Origin private key (PATH.key from `edgenode keygen`).")
    var key: String

    @Option(name: .long, help: "Segment container: ts or fmp4.")
    var format: String = "ts"

    @Option(name: .customLong("hls-time"), help: "Target segment duration in seconds; cuts happen at the next keyframe after it.")
    var hlsTime: Double = 6

    @Option(name: .customLong("content-id"), help: "Content id (default: the output directory's name).")
    var contentID: String?

    @Option(name: .long, help: "Artist id recorded in the manifest.")
    var artist: String = "unassigned"

    @Option(name: .long, help: "Title recorded in the manifest (default: the input's file name).")
    var title: String?

    @Option(name: .long, help: "The recording's ISRC (CC-XXX-YY-NNNNN), recorded in the signed manifest.")
    var isrc: String?

    @Flag(name: .long, help: "Replace an existing output directory.")
    var force = false

    @Flag(name: .customLong("no-fsync"), help: "Skip fsync of the output (faster, not crash-safe).")
    var noFsync = false

    func run() throws {
        guard let segmentFormat = SegmentFormat(rawValue: format) else {
            printError("--format must be ts or fmp4, not \"\(format)\"")
            throw ExitCode(2)
        }
        guard hlsTime.isFinite, hlsTime >= 0.1, hlsTime <= 120 else {
            printError("--hls-time must be between 0.1 and 120 seconds")
            throw ExitCode(2)
        }
        if let isrc {
            do {
                _ = try ISRC(isrc)
            } catch {
                printError("--isrc: \(error)")
                throw ExitCode(2)
            }
        }
        let signer = try loadSignerForCommand(key)
        var options = PublishOptions(inputPath: input, outputPath: out)
        options.format = segmentFormat
        options.targetDurationUs = Int64((hlsTime * 1_000_000).rounded())
        options.contentID = contentID
        options.artistID = artist
        options.title = title
        options.isrc = isrc
        options.force = force
        options.durable = !noFsync

        Interruption.install()
        let bar = ProgressBar(label: URL(fileURLWithPath: input).lastPathComponent)
        let report: PublishReport
        var progress: (@Sendable (Double) -> Void)?
        if let bar { progress = { fraction in bar.update(fraction) } }
        do throws(SegmenterError) {
            report = try Publisher.publish(options, signer: signer, progress: progress,
                                           isCancelled: { Interruption.requested })
            bar?.done()
        } catch {
            bar?.done()
            printError("\(error)")
            throw ExitCode(error == .cancelled ? 130 : 1)
        }
        summarize(report)
    }

    private func summarize(_ report: PublishReport) {
        let rendition = report.rendition
        let manifest = report.manifest
        print("published \(manifest.contentID) → \(report.outputPath)")
        print("  rendition \(rendition.renditionID): \(rendition.codecs)\(rendition.resolution.map { " \($0)" } ?? "")\(rendition.frameRate.map { " @\($0)" } ?? "")")
        print("  \(rendition.segments.count) \(manifest.format) segments, \(HLSDuration.format(rendition.mediaDurationUs)) s, longest \(HLSDuration.format(report.longestSegmentUs)) s")
        if let variant = manifest.renditions.first {
            print("  bandwidth peak \(variant.bandwidth) bit/s, average \(variant.averageBandwidth) bit/s")
        }
        print("  \(manifest.files.count) files, \(report.totalBytes) bytes; Merkle root \(manifest.root) (\(manifest.treeSize) leaves)")
        print("  signed by \(manifest.keyName) key \(manifest.keyID)")
        if report.longestSegmentUs > report.targetDurationUs {
            printWarning("the input's GOPs are longer than --hls-time \(HLSDuration.format(report.targetDurationUs)) s: the longest segment is \(HLSDuration.format(report.longestSegmentUs)) s (GOPs are never split; re-encode with shorter keyframe intervals to meet the target)")
        }
        if rendition.droppedLeadingPackets > 0 {
            printWarning("dropped \(rendition.droppedLeadingPackets) video packets before the first keyframe (not decodable)")
        }
    }
}
