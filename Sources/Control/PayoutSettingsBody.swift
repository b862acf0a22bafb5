import Foundation
import Ledger
import LedgerStore
import Royalty

/// The JSON body of `PUT /v1/artists/{artist}/payout-settings`:
///
/// ```json
/// {"method": "sepa", "account_name": "Luna Díaz", "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX",
///  "minimum": 2500, "currency": "EUR", "tax_country": "DE"}
/// {"method": "csv", "account_name": "Sol", "reference": "USDC 0x52908400098527886E0F7030069857D2E4169EE7",
///  "minimum": 5000, "currency": "USD", "tax_country": "US"}
/// ```
struct PayoutSettingsBody: Decodable {
    let method: String
    let accountName: String
    let iban: String?
    let bic: String?
    let reference: String?
    let minimum: Int64
    let currency: String
    let taxCountry: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        try AnyKey.refuseUnknown(container, known: ["method", "account_name", "iban", "bic", "reference", "minimum", "currency", "tax_country"])
        func key(_ name: String) -> AnyKey { AnyKey(stringValue: name) }
        func optional(_ name: String) throws -> String? {
            container.contains(key(name)) ? try container.decode(String.self, forKey: key(name)) : nil
        }
        method = try container.decode(String.self, forKey: key("method"))
        accountName = try container.decode(String.self, forKey: key("account_name"))
        iban = try optional("iban")
        bic = try optional("bic")
        reference = try optional("reference")
        minimum = try TransferBody.decodeAmount(container, forKey: key("minimum"))
        currency = try container.decode(String.self, forKey: key("currency"))
        taxCountry = try container.decode(String.self, forKey: key("tax_country"))
    }

    /// Decodes and validates a body into the artist's stored settings; every failure is a 400 naming the field.
    static func settings(from data: Data, artist: String, at time: Int64) throws -> LedgerStore.StoredPayoutSettings {
        let body: PayoutSettingsBody = try TransferBody.decode(data)
        func invalid(_ message: String) -> ControlError { ControlError(.badRequest, "invalid_payout_settings", message) }
        let method: PayoutSettings.Method
        switch body.method {
        case "sepa":
            guard body.reference == nil else { throw invalid("reference: only for method csv") }
            guard let text = body.iban else { throw invalid("iban is required for method sepa") }
            do {
                method = .sepa(iban: try IBAN(text), bic: body.bic)
            } catch {
                throw invalid("iban: \(error)")
            }
        case "csv":
            guard body.iban == nil, body.bic == nil else { throw invalid("iban and bic: only for method sepa") }
            guard let reference = body.reference else { throw invalid("reference is required for method csv") }
            method = .manual(reference: reference)
        default:
            throw invalid("method: \"\(body.method.prefix(20))\" is not sepa or csv")
        }
        let currency: Currency
        do {
            currency = try Currency(body.currency)
        } catch {
            throw invalid("currency: \(error)")
        }
        let settings: PayoutSettings
        do {
            settings = try PayoutSettings(method: method, accountName: body.accountName, minimum: body.minimum, currency: currency,
                                          taxCountry: body.taxCountry)
        } catch {
            throw invalid(error.reason)
        }
        var bic: String?
        if case .sepa(_, let code) = settings.method { bic = code }
        return LedgerStore.StoredPayoutSettings(artist: artist, method: settings.method.name, accountName: settings.accountName,
                                                destination: settings.method.destination, bic: bic, minimum: settings.minimum, currency: currency.code,
                                                taxCountry: settings.taxCountry, updatedAt: time)
    }
}
