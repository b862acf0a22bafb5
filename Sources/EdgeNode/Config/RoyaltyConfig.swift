import Control
import Foundation
import Ledger
import Royalty
import TOMLKit

/// The fleet's royalty settings (`[royalty]` in `nodes.conf`), used by the origin's control module:
///
/// ```toml
/// [royalty]
/// tax_rates = "royalty/tax-rates.csv"    # withholding by tax country (country,rate_percent,source); no file: no payouts
/// sepa_debtor_name = "Edgenode Music"    # the platform's account SEPA payouts are paid from (all three for SEPA files)
/// sepa_debtor_iban = "FR76 3000 6000 0112 3456 7890 189"
/// sepa_debtor_bic = "AGRIFRPP"            # optional
/// view_model = "pro_rata"                # pro_rata (the month's subscription pool split by views) or per_view
/// per_view_rates = { EUR = 400 }         # per_view: minor units per 1,000 views, by currency
/// view_threshold = 30                    # seconds of media that make a session a view (1...600)
/// view_report_interval = 10              # seconds between a node's saves of its counts, and its report retries (1...3600)
/// view_period = 3600                     # seconds a node's report covers (10...86400, dividing a day)
/// view_sessions_per_address = 16         # sessions one client address (IPv6: its /64) earns media time with per
///                                        # content and period (1...10000); more from it count bytes only
/// ```
public struct RoyaltyConfig: Sendable, Equatable {
    /// Absolute path of the withholding rates file.
    public var taxRates: String?
    public var sepaDebtor: SEPACreditTransfer.Account?
    public var viewModel: RoyaltySettings.ViewModel = .proRata
    public var viewThresholdSeconds = 30
    public var viewReportIntervalSeconds = 10
    public var viewPeriodSeconds = 3_600
    public var viewSessionsPerAddress = 16

    public init(taxRates: String? = nil, sepaDebtor: SEPACreditTransfer.Account? = nil) {
        self.taxRates = taxRates
        self.sepaDebtor = sepaDebtor
    }

    static func parse(_ table: TOMLTable?, path: String, base: String) throws(ConfigError) -> RoyaltyConfig {
        guard let table else { return RoyaltyConfig() }
        var reader = TableReader(table: table, path: path, location: "royalty")
        try reader.allowOnly(["tax_rates", "sepa_debtor_name", "sepa_debtor_iban", "sepa_debtor_bic", "view_model", "per_view_rates",
                              "view_threshold", "view_report_interval", "view_period", "view_sessions_per_address"])
        var config = RoyaltyConfig(taxRates: try reader.string("tax_rates").map { NodesConfig.resolve($0, base: base) })
        let name = try reader.string("sepa_debtor_name"), iban = try reader.string("sepa_debtor_iban"), bic = try reader.string("sepa_debtor_bic")
        switch (name, iban) {
        case (nil, nil):
            if bic != nil { throw reader.error("sepa_debtor_bic", "needs sepa_debtor_name and sepa_debtor_iban") }
        case (let name?, let iban?):
            guard (1...70).contains(name.count), !name.contains(where: \.isNewline) else {
                throw reader.error("sepa_debtor_name", "must be 1-70 characters on one line")
            }
            do {
                config.sepaDebtor = SEPACreditTransfer.Account(name: name, iban: try IBAN(iban), bic: bic)
            } catch {
                throw reader.error("sepa_debtor_iban", error.description)
            }
            if let bic {
                do {
                    try SEPACreditTransfer.checkBIC(bic)
                } catch {
                    throw reader.error("sepa_debtor_bic", error.reason)
                }
            }
        case (nil, _):
            throw reader.error("sepa_debtor_name", "missing: give the SEPA debtor's name with its IBAN")
        case (_, nil):
            throw reader.error("sepa_debtor_iban", "missing: give the SEPA debtor's IBAN with its name")
        }
        switch try reader.string("view_model") ?? "pro_rata" {
        case "pro_rata":
            if reader.table["per_view_rates"] != nil { throw reader.error("per_view_rates", "only for view_model = \"per_view\"") }
        case "per_view":
            guard let table = try reader.table("per_view_rates") else {
                throw reader.error("per_view_rates", "missing: per_view needs a rate card, e.g. { EUR = 400 } (minor units per 1,000 views)")
            }
            var rates: [String: Int64] = [:]
            for code in table.keys {
                guard (try? Ledger.Currency(code)) != nil else { throw reader.error("per_view_rates", "\(code) is not a currency the ledger knows") }
                guard let rate = table[code]?.int, (1...1_000_000_000).contains(rate) else {
                    throw reader.error("per_view_rates", "\(code): the rate must be an integer within 1...1000000000 minor units per 1,000 views")
                }
                rates[code] = Int64(rate)
            }
            guard !rates.isEmpty else { throw reader.error("per_view_rates", "the rate card is empty") }
            config.viewModel = .perView(ratesPerThousand: rates)
        case let other:
            throw reader.error("view_model", "must be pro_rata or per_view (got \"\(other.prefix(20))\")")
        }
        config.viewThresholdSeconds = try reader.integer("view_threshold") ?? 30
        guard (1...600).contains(config.viewThresholdSeconds) else { throw reader.error("view_threshold", "must be within 1...600 seconds") }
        config.viewReportIntervalSeconds = try reader.integer("view_report_interval") ?? 10
        guard (1...3_600).contains(config.viewReportIntervalSeconds) else { throw reader.error("view_report_interval", "must be within 1...3600 seconds") }
        config.viewPeriodSeconds = try reader.integer("view_period") ?? 3_600
        guard (10...86_400).contains(config.viewPeriodSeconds), 86_400 % config.viewPeriodSeconds == 0 else {
            throw reader.error("view_period", "must be within 10...86400 seconds and divide a day")
        }
        config.viewSessionsPerAddress = try reader.integer("view_sessions_per_address") ?? 16
        guard (1...10_000).contains(config.viewSessionsPerAddress) else {
            throw reader.error("view_sessions_per_address", "must be within 1...10000 sessions")
        }
        return config
    }

    /// How a node counts views.
    public var counterSettings: ViewCounter.Settings {
        var settings = ViewCounter.Settings()
        settings.thresholdMilliseconds = UInt32(viewThresholdSeconds * 1000)
        settings.periodSeconds = Int64(viewPeriodSeconds)
        settings.closeGraceSeconds = Int64(min(60, viewPeriodSeconds / 4))
        settings.sessionsPerAddress = viewSessionsPerAddress
        return settings
    }

    /// The settings the control API applies: the rates file read and checked now (an unreadable or invalid file is a
    /// configuration error naming its line).
    public func settings(tipArtistShareBasisPoints: UInt16, configPath: String) throws(ConfigError) -> RoyaltySettings {
        var settings = RoyaltySettings(tipArtistShareBasisPoints: tipArtistShareBasisPoints, sepaDebtor: sepaDebtor)
        settings.viewModel = viewModel
        settings.viewThresholdMilliseconds = UInt32(viewThresholdSeconds * 1000)
        if let taxRates {
            do {
                let data = try AtomicFile.read(taxRates, limit: 1 << 20)
                settings.taxRates = try TaxRates(csv: String(decoding: data, as: UTF8.self))
            } catch let error as StorageError {
                throw ConfigError(file: configPath, location: "royalty.tax_rates", message: "\(error)")
            } catch {
                throw ConfigError(file: configPath, location: "royalty.tax_rates", message: "\(taxRates): \(error)")
            }
        }
        return settings
    }
}
