import Ledger
import Testing
@testable import Royalty

/// The DSP statement format: DDEX DSR cell names, exact amounts, every bad line named by number.
@Suite struct DSPStatementTests {
    static let header = "SalesTransactionId,ResourceISRC,ContentId,ArtistId,Territory,UseType,Usages,NetRevenue,Currency"

    @Test func aStatementParsesExactly() throws {
        let statement = try DSPStatement(csv: """
            # spotify 2026-11
            \(Self.header)
            tx-0001,US-RC1-76-07839,,,FR,Stream,12000,38.40,EUR\r
            tx-0002,,song-1,luna,DE,Stream,500,1.6,EUR
            "tx,0003",,song-2,,,,0,0,JPY

            """)
        #expect(statement.lines.count == 3)
        let first = statement.lines[0]
        #expect(first.number == 3 && first.isrc?.code == "USRC17607839" && first.usages == 12_000 && first.amount == 3_840)
        #expect(first.territory == "FR" && first.useType == "Stream" && first.contentID == nil && first.currency.code == "EUR")
        #expect(statement.lines[1].amount == 160 && statement.lines[1].artistID == "luna")
        #expect(statement.lines[2].transactionID == "tx,0003" && statement.lines[2].currency.code == "JPY")
        let reordered = try DSPStatement(csv: "Currency,NetRevenue,Usages,ContentId,SalesTransactionId\nUSD,0.99,3,song-1,t1\n")
        #expect(reordered.lines.first?.amount == 99 && reordered.lines.first?.contentID == "song-1")
    }

    @Test func everyBadLineIsNamed() {
        let cases: [(String, Int, String)] = [
            ("", 1, "no header"),
            ("SalesTransactionId,Usages,NetRevenue,Currency,Royalty\n", 1, "unknown column \"Royalty\""),
            ("SalesTransactionId,Usages,NetRevenue,Currency\n", 1, "needs ResourceISRC or ContentId"),
            ("SalesTransactionId,ContentId,Usages,NetRevenue\n", 1, "lacks Currency"),
            ("\(Self.header)\nt1,,song-1,,,,1,0.10\n", 2, "8 cells, the header has 9"),
            ("\(Self.header)\nt1,,song-1,,,,1,0.101,EUR\n", 2, "EUR has 2 decimal places"),
            ("\(Self.header)\nt1,,song-1,,,,1,-1.00,EUR\n", 2, "not a plain decimal"),
            ("\(Self.header)\nt1,,song-1,,,,1,1e3,EUR\n", 2, "not a plain decimal"),
            ("\(Self.header)\nt1,,song-1,,,,-4,1.00,EUR\n", 2, "Usages"),
            ("\(Self.header)\nt1,XX-123-45-6789,,,,,1,1.00,EUR\n", 2, "ResourceISRC"),
            ("\(Self.header)\nt1,,,,,,1,1.00,EUR\n", 2, "neither ResourceISRC nor ContentId"),
            ("\(Self.header)\nt1,,song-1,,FRA,,1,1.00,EUR\n", 2, "Territory"),
            ("\(Self.header)\nt1,,song-1,Luna!,,,1,1.00,EUR\n", 2, "ArtistId"),
            ("\(Self.header)\nt1,,song-1,,,,1,1.00,EURO\n", 2, "Currency"),
            ("\(Self.header)\nt1,,song-1,,,,1,1.00,EUR\nt1,,song-2,,,,1,1.00,EUR\n", 3, "t1 appears twice"),
            ("\(Self.header)\n,,song-1,,,,1,1.00,EUR\n", 2, "SalesTransactionId"),
        ]
        for (text, line, reason) in cases {
            #expect { try DSPStatement(csv: text) } throws: { error in
                guard let invalid = error as? DSPStatement.Invalid else { return false }
                return invalid.line == line && invalid.reason.contains(reason)
            }
        }
    }
}
