import Control
import Foundation
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
/// ```
public struct RoyaltyConfig: Sendable, Equatable {
    /// Absolute path of the withholding rates file.
    public var taxRates: String?
    public var sepaDebtor: SEPACreditTransfer.Account?

    public init(taxRates: String? = nil, sepaDebtor: SEPACreditTransfer.Account? = nil) {
        self.taxRates = taxRates
        self.sepaDebtor = sepaDebtor
    }

    static func parse(_ table: TOMLTable?, path: String, base: String) throws(ConfigError) -> RoyaltyConfig {
        guard let table else { return RoyaltyConfig() }
        var reader = TableReader(table: table, path: path, location: "royalty")
        try reader.allowOnly(["tax_rates", "sepa_debtor_name", "sepa_debtor_iban", "sepa_debtor_bic"])
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
        return config
    }

    /// The settings the control API applies: the rates file read and checked now (an unreadable or invalid file is a
    /// configuration error naming its line).
    public func settings(tipArtistShareBasisPoints: UInt16, configPath: String) throws(ConfigError) -> RoyaltySettings {
        var settings = RoyaltySettings(tipArtistShareBasisPoints: tipArtistShareBasisPoints, sepaDebtor: sepaDebtor)
        if let taxRates {
            do {
                let data = try AtomicFile.read(taxRates, limit: 1 << 20)
                settings.taxRates = try TaxRates(csv: String(decoding: data, as: UTF8.self))
            } catch {
                throw ConfigError(file: configPath, location: "royalty.tax_rates", message: "\(taxRates): \(error)")
            }
        }
        return settings
    }
}
