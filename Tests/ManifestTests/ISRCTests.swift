import Foundation
import Testing
@testable import Manifest

@Suite struct ISRCTests {
    @Test func writtenFormsAreAcceptedAndShownHyphenated() throws {
        for text in ["USRC17607839", "US-RC1-76-07839", "isrc us-rc1-76-07839", "ISRC USRC17607839", "GB A1B 26 00001"] {
            let isrc = try ISRC(text)
            #expect(isrc.code.count == 12 && isrc.code == isrc.code.uppercased(), "\(text)")
        }
        #expect(try ISRC("us-rc1-76-07839").description == "US-RC1-76-07839")
        #expect(try ISRC("USRC17607839") == ISRC("US-RC1-76-07839"))
    }

    @Test func everythingElseIsRefusedWithTheReason() {
        let cases: [(String, String)] = [
            ("USRC1760783", "12 characters"), ("USRC176078390", "12 characters"), ("1SRC17607839", "country code"),
            ("US_C17607839", "registrant code"), ("USRC1760783X", "seven digits"), ("USRC17O07839", "seven digits"),
            ("ÜSRC17607839", "12 characters"), ("", "12 characters"), ("US.RC1.76.07839", "12 characters"),
        ]
        for (text, reason) in cases {
            #expect { try ISRC(text) } throws: { ($0 as? ISRC.Invalid)?.reason.contains(reason) == true }
        }
    }
}

/// An ISRC recorded in a manifest is signed with it: changing it breaks verification; a malformed one is refused.
@Suite struct ManifestISRCTests {
    @Test func theISRCIsCommittedToByTheSignedManifest() throws {
        var description = ContentManifestTests.description
        description.isrc = "USRC17607839"
        let files = ContentManifestTests.files.mapValues { ChunkHasher.chunkList(of: $0) }
        let manifest = try ContentManifest.build(description: description, files: files, signer: ContentManifestTests.signer)
        let parsed = try ContentManifest.parse(manifest.jsonData())
        #expect(parsed.isrc == "USRC17607839")
        _ = try VerifiedManifest(parsed, verifier: ContentManifestTests.signer.verifier)
        var changed = parsed
        changed.isrc = "USRC17607830"
        #expect(throws: ManifestError.self, "another recording's code does not verify") {
            try VerifiedManifest(changed, verifier: ContentManifestTests.signer.verifier)
        }
        var removed = parsed
        removed.isrc = nil
        #expect(throws: ManifestError.self) { try VerifiedManifest(removed, verifier: ContentManifestTests.signer.verifier) }
        let without = try ContentManifest.build(description: ContentManifestTests.description, files: files, signer: ContentManifestTests.signer)
        #expect(!String(decoding: without.jsonData(), as: UTF8.self).contains("isrc"), "no ISRC, no field")

        var hyphenated = description
        hyphenated.isrc = "US-RC1-76-07839"
        #expect(throws: ManifestError.self, "recorded as its twelve characters only") {
            try ContentManifest.build(description: hyphenated, files: files, signer: ContentManifestTests.signer)
        }
        let json = String(decoding: manifest.jsonData(), as: UTF8.self).replacingOccurrences(of: "USRC17607839", with: "not-an-isrc")
        #expect(throws: ManifestError.self) { try ContentManifest.parse(Data(json.utf8)) }
    }
}
