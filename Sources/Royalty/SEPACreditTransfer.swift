/// A payout run's bank wire file: an ISO 20022 `pain.001.001.09` customer credit transfer initiation (the SEPA
/// version of the EPC 2023 rulebooks), one payment instruction from the platform's account with one transaction per
/// artist. Euro only, amounts in cents written as decimals, names and remittance text reduced to the EPC Latin
/// character set, identifiers within their 35 characters; the file is checked against the official XSD in tests.
public enum SEPACreditTransfer {
    public struct Account: Sendable, Equatable {
        public let name: String
        public let iban: IBAN
        /// Optional inside the EEA (the IBAN alone suffices since 2016).
        public let bic: String?

        public init(name: String, iban: IBAN, bic: String? = nil) {
            self.name = name
            self.iban = iban
            self.bic = bic
        }
    }

    public struct Payment: Sendable, Equatable {
        /// Unique per payment, carried to the artist's statement (≤ 35 characters of the EPC set).
        public let endToEndID: String
        public let creditor: Account
        public let cents: Int64
        public let remittance: String

        public init(endToEndID: String, creditor: Account, cents: Int64, remittance: String) {
            self.endToEndID = endToEndID
            self.creditor = creditor
            self.cents = cents
            self.remittance = remittance
        }
    }

    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public let reason: String
        public var description: String { "cannot write the SEPA file: \(reason)" }
    }

    /// The largest amount of one SEPA credit transfer: 999,999,999.99 EUR.
    public static let maximumCents: Int64 = 99_999_999_999

    /// The XML document. `createdAt` (Unix seconds) becomes `CreDtTm`, `executionDay` (Unix seconds, its UTC day)
    /// `ReqdExctnDt`.
    public static func document(messageID: String, createdAt: Int64, executionDay: Int64, debtor: Account, payments: [Payment])
        throws(Invalid) -> String {
        guard !payments.isEmpty else { throw Invalid(reason: "no payments") }
        try checkIdentifier(messageID, "the message id")
        if let bic = debtor.bic { try checkBIC(bic) }
        var total: Int64 = 0
        var ends: Set<String> = []
        for payment in payments {
            try checkIdentifier(payment.endToEndID, "the end-to-end id")
            guard ends.insert(payment.endToEndID).inserted else { throw Invalid(reason: "end-to-end id \(payment.endToEndID) appears twice") }
            guard (1...maximumCents).contains(payment.cents) else {
                throw Invalid(reason: "\(payment.endToEndID): amount \(payment.cents) cents is outside 1...\(maximumCents)")
            }
            if let bic = payment.creditor.bic { try checkBIC(bic) }
            let (sum, overflow) = total.addingReportingOverflow(payment.cents)
            guard !overflow else { throw Invalid(reason: "the control sum leaves 64 bits") }
            total = sum
        }
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml += #"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn>"#
        xml += "<GrpHdr><MsgId>\(escape(messageID))</MsgId><CreDtTm>\(CivilTime.dateTime(createdAt))</CreDtTm>"
        xml += "<NbOfTxs>\(payments.count)</NbOfTxs><CtrlSum>\(decimal(total))</CtrlSum>"
        xml += "<InitgPty><Nm>\(text(debtor.name, 70))</Nm></InitgPty></GrpHdr>"
        xml += "<PmtInf><PmtInfId>\(escape(messageID))</PmtInfId><PmtMtd>TRF</PmtMtd><BtchBookg>true</BtchBookg>"
        xml += "<NbOfTxs>\(payments.count)</NbOfTxs><CtrlSum>\(decimal(total))</CtrlSum>"
        xml += "<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf>"
        xml += "<ReqdExctnDt><Dt>\(CivilTime.date(executionDay))</Dt></ReqdExctnDt>"
        xml += "<Dbtr><Nm>\(text(debtor.name, 70))</Nm></Dbtr><DbtrAcct><Id><IBAN>\(debtor.iban.value)</IBAN></Id></DbtrAcct>"
        xml += "<DbtrAgt><FinInstnId>" + (debtor.bic.map { "<BICFI>\($0)</BICFI>" } ?? "<Othr><Id>NOTPROVIDED</Id></Othr>") + "</FinInstnId></DbtrAgt>"
        xml += "<ChrgBr>SLEV</ChrgBr>"
        for payment in payments {
            xml += "<CdtTrfTxInf><PmtId><EndToEndId>\(escape(payment.endToEndID))</EndToEndId></PmtId>"
            xml += #"<Amt><InstdAmt Ccy="EUR">"# + decimal(payment.cents) + "</InstdAmt></Amt>"
            if let bic = payment.creditor.bic { xml += "<CdtrAgt><FinInstnId><BICFI>\(bic)</BICFI></FinInstnId></CdtrAgt>" }
            xml += "<Cdtr><Nm>\(text(payment.creditor.name, 70))</Nm></Cdtr>"
            xml += "<CdtrAcct><Id><IBAN>\(payment.creditor.iban.value)</IBAN></Id></CdtrAcct>"
            xml += "<RmtInf><Ustrd>\(text(payment.remittance, 140))</Ustrd></RmtInf></CdtTrfTxInf>"
        }
        xml += "</PmtInf></CstmrCdtTrfInitn></Document>\n"
        return xml
    }

    /// Cents as a decimal: 123456 → `1234.56`.
    static func decimal(_ cents: Int64) -> String {
        let fraction = cents % 100
        return "\(cents / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    /// The EPC Latin character set (`a-z A-Z 0-9 / - ? : ( ) . , ' +` and space): Latin letters with diacritics lose
    /// them (EPC conversion table), anything else becomes a space; trimmed to `limit` characters, never empty;
    /// XML-escaped.
    static func text(_ value: String, _ limit: Int) -> String {
        var result = ""
        for character in value {
            let scalars = character.unicodeScalars
            if scalars.count == 1, let scalar = scalars.first, isEPC(scalar) {
                result.append(character)
            } else if let replacement = folded[character] {
                result.append(replacement)
            } else if scalars.count > 1, let base = scalars.first, isLetter(base) {
                // A letter followed by combining marks (decomposed form).
                result.append(Character(base))
            } else {
                result.append(" ")
            }
        }
        let trimmed = String(result.prefix(limit)).trimmingSpaces
        return escape(trimmed.isEmpty ? "NOTPROVIDED" : trimmed)
    }

    /// Latin letters with diacritics and ligatures, by their EPC replacement.
    private static let folded: [Character: String] = {
        let table: [(String, String)] = [
            ("ÀÁÂÃÄÅĀĂĄ", "A"), ("àáâãäåāăą", "a"), ("ÇĆĈĊČ", "C"), ("çćĉċč", "c"), ("ĎĐ", "D"), ("ďđ", "d"),
            ("ÈÉÊËĒĔĖĘĚ", "E"), ("èéêëēĕėęě", "e"), ("ĜĞĠĢ", "G"), ("ĝğġģ", "g"), ("ĤĦ", "H"), ("ĥħ", "h"),
            ("ÌÍÎÏĨĪĬĮİ", "I"), ("ìíîïĩīĭįı", "i"), ("Ĵ", "J"), ("ĵ", "j"), ("Ķ", "K"), ("ķ", "k"), ("ĹĻĽĿŁ", "L"),
            ("ĺļľŀł", "l"), ("ÑŃŅŇ", "N"), ("ñńņň", "n"), ("ÒÓÔÕÖØŌŎŐ", "O"), ("òóôõöøōŏő", "o"), ("ŔŖŘ", "R"),
            ("ŕŗř", "r"), ("ŚŜŞŠȘ", "S"), ("śŝşšș", "s"), ("ŢŤȚ", "T"), ("ţťț", "t"), ("ÙÚÛÜŨŪŬŮŰŲ", "U"),
            ("ùúûüũūŭůűų", "u"), ("Ŵ", "W"), ("ŵ", "w"), ("ÝŸŶ", "Y"), ("ýÿŷ", "y"), ("ŹŻŽ", "Z"), ("źżž", "z"),
            ("ß", "ss"), ("Æ", "AE"), ("æ", "ae"), ("Œ", "OE"), ("œ", "oe"), ("Þ", "TH"), ("þ", "th"),
        ]
        var map: [Character: String] = [:]
        for (letters, replacement) in table {
            for letter in letters { map[letter] = replacement }
        }
        return map
    }()

    private static func isLetter(_ scalar: Unicode.Scalar) -> Bool { ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) }

    private static func isEPC(_ scalar: Unicode.Scalar) -> Bool {
        isLetter(scalar) || ("0"..."9").contains(scalar) || "/-?:().,'+ ".unicodeScalars.contains(scalar)
    }

    private static func escape(_ value: String) -> String {
        var result = ""
        for character in value {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "'": result += "&apos;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }

    /// 1-35 characters of the EPC set without spaces at either end (message and end-to-end ids).
    private static func checkIdentifier(_ value: String, _ what: String) throws(Invalid) {
        guard (1...35).contains(value.count), value.unicodeScalars.allSatisfy(isEPC), value.first != " ", value.last != " " else {
            throw Invalid(reason: "\(what) \"\(value.prefix(40))\" must be 1-35 characters of the EPC set")
        }
    }

    /// ISO 9362: 4 letters (institution), 2 letters (country), 2 letters or digits (location), optionally 3 more (branch).
    public static func checkBIC(_ bic: String) throws(Invalid) {
        let scalars = Array(bic.unicodeScalars)
        let upperOrDigit: (Unicode.Scalar) -> Bool = { ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
        guard scalars.count == 8 || scalars.count == 11, scalars[0..<6].allSatisfy({ ("A"..."Z").contains($0) }),
              scalars[6...].allSatisfy(upperOrDigit) else {
            throw Invalid(reason: "BIC \"\(bic.prefix(20))\" must be 8 or 11 characters: AAAA CC LL [BBB]")
        }
    }
}

extension String {
    /// Without leading and trailing spaces.
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
