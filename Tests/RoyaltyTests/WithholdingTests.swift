import Foundation
import Testing
@testable import Royalty

/// Withholding by tax country: exact rates, half-up rounding to the minor unit, the seeded rates table.
@Suite struct WithholdingTests {
    @Test func ratesAreExact() throws {
        #expect(TaxRate(percent: "20.42")?.milliPercent == 20_420 && TaxRate(percent: "15.825")?.milliPercent == 15_825)
        #expect(TaxRate(percent: "30")?.description == "30 %" && TaxRate(percent: "20.420")?.description == "20.42 %")
        for bad in ["", "-1", "100.001", "1.2345", "1,5", "abc", ".5", "5.", "1e2"] { #expect(TaxRate(percent: bad) == nil, "\(bad)") }
        #expect(TaxRate(percent: "100")?.milliPercent == 100_000 && TaxRate(percent: "0")?.milliPercent == 0)
    }

    @Test func withheldAmountsRoundHalfUpAndNeverLoseAUnit() throws {
        let japan = try #require(TaxRate(percent: "20.42"))
        #expect(Withholding.split(gross: 10_001, rate: japan) == (net: 7_959, withheld: 2_042), "2042.2042 → 2042")
        let half = try #require(TaxRate(percent: "50"))
        #expect(Withholding.split(gross: 5, rate: half) == (net: 2, withheld: 3), "2.5 rounds up")
        let tenth = try #require(TaxRate(percent: "10"))
        #expect(Withholding.split(gross: 4, rate: tenth) == (net: 4, withheld: 0), "0.4 rounds down")
        #expect(Withholding.split(gross: .max, rate: try #require(TaxRate(percent: "30"))).withheld == 2_767_011_611_056_432_742)
        var generator = SplitMix(seed: 5)
        for _ in 0..<10_000 {
            let gross = Int64.random(in: 0...1_000_000_000_000, using: &generator)
            let rate = TaxRate(milliPercent: Int.random(in: 0...100_000, using: &generator))!
            let (net, withheld) = Withholding.split(gross: gross, rate: rate)
            #expect(net + withheld == gross && withheld >= 0 && net >= 0)
            let exact = Double(gross) * Double(rate.milliPercent) / 100_000
            #expect(abs(Double(withheld) - exact) <= 0.5 + exact * 1e-12)
        }
    }

    @Test func theSeededTableAndItsErrors() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("royalty/tax-rates.csv")
        let table = try TaxRates(csv: String(contentsOf: file, encoding: .utf8))
        #expect(table.rate(for: "US")?.milliPercent == 30_000 && table.rate(for: "GB")?.milliPercent == 20_000)
        #expect(table.rate(for: "CA")?.milliPercent == 25_000 && table.rate(for: "AU")?.milliPercent == 30_000)
        #expect(table.rate(for: "JP")?.milliPercent == 20_420)
        let eu = ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL",
                  "PL", "PT", "RO", "SK", "SI", "ES", "SE"]
        #expect(eu.allSatisfy { table.rates[$0] != nil }, "every EU member is named")
        #expect(eu.allSatisfy { table.rate(for: $0) == nil }, "none is paid out until an operator sets its rate")
        #expect(table.rate(for: "ZZ") == nil)
        let cases: [(String, String)] = [
            ("US,30\n", "header"), ("country,rate_percent\nUSA,30\n", "not an ISO 3166"), ("country,rate_percent\nUS,30\nUS,20\n", "listed twice"),
            ("country,rate_percent\nUS,thirty\n", "rate \"thirty\""), ("country,rate_percent\nUS\n", "expected country"), ("# only\n", "no header"),
        ]
        for (text, reason) in cases {
            #expect { try TaxRates(csv: text) } throws: { ($0 as? TaxRates.Invalid)?.reason.contains(reason) == true }
        }
        #expect(CSV.fields(#"US,30,"a ""quoted"", note""#) == ["US", "30", #"a "quoted", note"#])
    }
}

@Suite struct CalendarDayTests {
    @Test func daysParseExactly() {
        #expect(CalendarDay("2026-12-01")?.startSeconds == 1_796_083_200)
        #expect(CalendarDay("2000-02-29")?.description == "2000-02-29" && CalendarDay("2100-02-29") == nil)
        for bad in ["2026-02-30", "2026-13-01", "2026-1-01", "26-01-01", "1999-12-31", "2026-01-00", "2026-01-01T00", "２０２６-01-01"] {
            #expect(CalendarDay(bad) == nil, "\(bad)")
        }
        #expect(Month("2026-11")?.description == "2026-11" && Month("2026-00") == nil && Month("1999-12") == nil)
    }
}

@Suite struct CSVTests {
    @Test func crlfAndLfLinesAlike() throws {
        let table = try TaxRates(csv: "country,rate_percent,source\r\nUS,30,a\r\nGB,20,b\r\n")
        #expect(table.rate(for: "US")?.milliPercent == 30_000 && table.rate(for: "GB")?.milliPercent == 20_000)
        #expect(CSV.lines("a\r\nb\nc").map(String.init) == ["a", "b", "c"])
    }
}
