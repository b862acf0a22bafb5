import Foundation
import Testing
import TestSupport
@testable import Royalty

/// IBANs (ISO 13616 lengths, mod 97-10) and the payout run's pain.001.001.09 file, validated with xmllint against the
/// ISO 20022 XSD (`scripts/fetch-pain-xsd.sh`, run by `make test`).
@Suite struct SEPACreditTransferTests {
    @Test func ibansAreCheckedByLengthAndMod97() throws {
        for valid in ["DE89 3704 0044 0532 0130 00", "fr1420041010050500013m02606", "GB29NWBK60161331926819", "NL91ABNA0417164300",
                      "BE68539007547034", "NO9386011117947", "MT84MALT011000012345MTLCAST001S"] {
            let iban = try IBAN(valid)
            #expect(IBAN.remainder(iban.value) == 1, "\(valid)")
        }
        #expect(try IBAN("de89370400440532013000").description == "DE89 3704 0044 0532 0130 00")
        let refused: [(String, String)] = [
            ("DE89 3704 0044 0532 0130 01", "check digits do not match"), ("DE89 3704 0044 0532 0130 0", "22 characters, not 21"),
            ("XX89370400440532013000", "unknown country"), ("DE8937040044053201300!", "only letters and digits"),
            ("DEAB370400440532013000", "check digits must be digits"), ("DE8", "too short"),
        ]
        for (text, reason) in refused {
            #expect { try IBAN(text) } throws: { ($0 as? IBAN.Invalid)?.reason.contains(reason) == true }
        }
    }

    static let platform = SEPACreditTransfer.Account(name: "Artist First Streaming B.V.", iban: try! IBAN("NL91ABNA0417164300"), bic: "ABNANL2A")

    @Test func aPayoutFileValidatesAgainstTheXSD() throws {
        #expect(FileManager.default.fileExists(atPath: PainSchema.path), "run scripts/fetch-pain-xsd.sh (make test does)")
        let payments = [
            SEPACreditTransfer.Payment(endToEndID: "payout-2026-11-luna", creditor: .init(name: "Luna Müller & Søn", iban: try IBAN("DE89370400440532013000")),
                                       cents: 123_456, remittance: "edgenode royalties 2026-11 <views, tips>"),
            SEPACreditTransfer.Payment(endToEndID: "payout-2026-11-sol", creditor: .init(name: "Sol ☀ Ortiz", iban: try IBAN("FR1420041010050500013M02606"),
                                                                                         bic: "BNPAFRPPXXX"),
                                       cents: 5, remittance: "edgenode royalties 2026-11"),
        ]
        let xml = try SEPACreditTransfer.document(messageID: "run-2026-11-EUR", createdAt: 1_796_000_000, executionDay: 1_796_083_200,
                                                  debtor: Self.platform, payments: payments)
        let result = try PainSchema.validate(xml)
        #expect(result.status == 0, "\(result.output)")
        #expect(xml.contains("<CtrlSum>1234.61</CtrlSum>") && xml.contains("<NbOfTxs>2</NbOfTxs>"))
        #expect(xml.contains(#"<InstdAmt Ccy="EUR">0.05</InstdAmt>"#) && xml.contains(#"<InstdAmt Ccy="EUR">1234.56</InstdAmt>"#))
        #expect(xml.contains("<Nm>Luna Muller   Son</Nm>") && xml.contains("<Nm>Sol   Ortiz</Nm>"), "EPC characters only")
        #expect(xml.contains("<CreDtTm>2026-11-30T") && xml.contains("<Dt>2026-12-01</Dt>"))
        #expect(!xml.contains("<views"), "text is escaped or replaced")
        // The check is real: a file the schema refuses fails it.
        let broken = xml.replacingOccurrences(of: "<PmtMtd>TRF</PmtMtd>", with: "<PmtMtd>WIRE</PmtMtd>")
        #expect(try PainSchema.validate(broken).status != 0)
    }

    @Test func badRunsAreRefused() throws {
        let creditor = SEPACreditTransfer.Account(name: "Luna", iban: try IBAN("DE89370400440532013000"))
        func run(_ payments: [SEPACreditTransfer.Payment], id: String = "run-1", bic: String? = nil) throws {
            _ = try SEPACreditTransfer.document(messageID: id, createdAt: 0, executionDay: 0,
                                                debtor: .init(name: "P", iban: Self.platform.iban, bic: bic), payments: payments)
        }
        let one = SEPACreditTransfer.Payment(endToEndID: "e1", creditor: creditor, cents: 1, remittance: "r")
        #expect(throws: SEPACreditTransfer.Invalid.self) { try run([]) }
        #expect(throws: SEPACreditTransfer.Invalid.self) { try run([one, one]) }
        #expect(throws: SEPACreditTransfer.Invalid.self) { try run([.init(endToEndID: "e2", creditor: creditor, cents: 0, remittance: "r")]) }
        #expect(throws: SEPACreditTransfer.Invalid.self) {
            try run([.init(endToEndID: "e2", creditor: creditor, cents: SEPACreditTransfer.maximumCents + 1, remittance: "r")])
        }
        #expect(throws: SEPACreditTransfer.Invalid.self) { try run([one], id: String(repeating: "x", count: 36)) }
        #expect(throws: SEPACreditTransfer.Invalid.self) { try run([one], id: "run_1") }
        #expect(throws: SEPACreditTransfer.Invalid.self) { try run([one], bic: "ABN") }
        #expect(SEPACreditTransfer.decimal(100) == "1.00" && SEPACreditTransfer.decimal(7) == "0.07")
        #expect(CivilTime.dateTime(0) == "1970-01-01T00:00:00" && CivilTime.date(951_782_400) == "2000-02-29")
        #expect(CivilTime.date(-86_400) == "1969-12-31")
    }
}
