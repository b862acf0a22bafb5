import Testing
@testable import Royalty

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
