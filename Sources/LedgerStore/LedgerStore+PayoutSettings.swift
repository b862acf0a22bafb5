import Foundation
import GRDB

/// Artists' payout settings as stored (one row per artist, replaced as a whole); the control module validates them
/// (`Royalty.PayoutSettings`) first.
extension LedgerStore {
    public struct StoredPayoutSettings: Sendable, Equatable {
        public let artist: String
        /// `sepa` or `csv`.
        public let method: String
        public let accountName: String
        /// The IBAN (sepa) or the manual payout's reference (csv).
        public let destination: String
        public let bic: String?
        public let minimum: Int64
        public let currency: String
        public let taxCountry: String
        /// Milliseconds since 1970.
        public let updatedAt: Int64

        public init(artist: String, method: String, accountName: String, destination: String, bic: String?, minimum: Int64, currency: String,
                    taxCountry: String, updatedAt: Int64) {
            self.artist = artist
            self.method = method
            self.accountName = accountName
            self.destination = destination
            self.bic = bic
            self.minimum = minimum
            self.currency = currency
            self.taxCountry = taxCountry
            self.updatedAt = updatedAt
        }
    }

    /// Stores `settings`, replacing the artist's previous ones.
    public func setPayoutSettings(_ settings: StoredPayoutSettings) throws(StoreError) {
        do {
            try pool.write { db in
                try db.execute(sql: """
                    INSERT INTO payout_settings (artist, method, account_name, destination, bic, minimum, currency, tax_country, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(artist) DO UPDATE SET method = excluded.method, account_name = excluded.account_name,
                        destination = excluded.destination, bic = excluded.bic, minimum = excluded.minimum, currency = excluded.currency,
                        tax_country = excluded.tax_country, updated_at = excluded.updated_at
                    """, arguments: [settings.artist, settings.method, settings.accountName, settings.destination, settings.bic, settings.minimum,
                                     settings.currency, settings.taxCountry, settings.updatedAt])
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// The artist's settings, nil when none were set.
    public func payoutSettings(artist: String) throws(StoreError) -> StoredPayoutSettings? {
        do {
            return try pool.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM payout_settings WHERE artist = ?", arguments: [artist]).map(StoredPayoutSettings.init(row:))
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// Every artist's stored payout settings, by artist.
    public func allPayoutSettings() throws(StoreError) -> [String: StoredPayoutSettings] {
        do {
            return try pool.read { db in
                try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT * FROM payout_settings").map {
                    let settings = StoredPayoutSettings(row: $0)
                    return (settings.artist, settings)
                })
            }
        } catch {
            throw .database("\(error)")
        }
    }
}

extension LedgerStore.StoredPayoutSettings {
    init(row: Row) {
        self.init(artist: row["artist"], method: row["method"], accountName: row["account_name"], destination: row["destination"],
                  bic: row["bic"], minimum: row["minimum"], currency: row["currency"], taxCountry: row["tax_country"],
                  updatedAt: row["updated_at"])
    }
}
