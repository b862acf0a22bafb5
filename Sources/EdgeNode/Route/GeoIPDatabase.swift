import CMaxMindDB
import Routing

#if canImport(Glibc)
import Glibc
#endif

/// A MaxMind-format GeoIP database (`geoip_db`), read with libmaxminddb (memory-mapped; lookups are safe from any
/// thread). It places viewers that no coverage zone covers — but only when it knows the city: an answer whose
/// `location.accuracy_radius` is `coarseRadiusKm` or more (a country's centre point, where MaxMind puts every address
/// it cannot place better) is no answer, so unknown viewers are not piled onto the group nearest a country's middle.
final class GeoIPDatabase: @unchecked Sendable {
    /// Answers at least this uncertain are country-level.
    static let coarseRadiusKm = 500

    private let database: UnsafeMutablePointer<MMDB_s>

    /// Why a database cannot be used.
    struct OpenError: Error, CustomStringConvertible {
        let description: String
    }

    init(path: String) throws(OpenError) {
        // Opened before `database` is set: a throw then runs no deinit (which would close what never opened).
        let opened = UnsafeMutablePointer<MMDB_s>.allocate(capacity: 1)
        let status = MMDB_open(path, UInt32(MMDB_MODE_MMAP), opened)
        guard status == MMDB_SUCCESS else {
            opened.deallocate()
            throw OpenError(description: "\(path): cannot open the GeoIP database: \(String(cString: MMDB_strerror(status)))")
        }
        database = opened
    }

    deinit {
        MMDB_close(database)
        database.deallocate()
    }

    /// The city-level location of `address`, or nil (not in the database, no location, or only country-level).
    func location(of address: IPAddress) -> GeoPoint? {
        var gaiError: Int32 = 0, status: Int32 = 0
        var result = MMDB_lookup_string(database, address.description, &gaiError, &status)
        guard gaiError == 0, status == MMDB_SUCCESS, result.found_entry else { return nil }
        if let radius = Self.number(&result.entry, ["location", "accuracy_radius"]), radius >= Double(Self.coarseRadiusKm) { return nil }
        guard let latitude = Self.number(&result.entry, ["location", "latitude"]),
              let longitude = Self.number(&result.entry, ["location", "longitude"]) else { return nil }
        return GeoPoint(latitude: latitude, longitude: longitude)
    }

    /// A numeric value at `path` (doubles, floats and integers, as writers differ), or nil.
    private static func number(_ entry: inout MMDB_entry_s, _ path: [String]) -> Double? {
        var data = MMDB_entry_data_s()
        let strings = path.map { strdup($0) }
        defer { for string in strings { free(string) } }
        let pointers: [UnsafePointer<CChar>?] = strings.map { $0.map { UnsafePointer<CChar>($0) } } + [nil]
        let status = pointers.withUnsafeBufferPointer { MMDB_aget_value(&entry, &data, $0.baseAddress) }
        guard status == MMDB_SUCCESS, data.has_data else { return nil }
        switch Int32(data.type) {
        case MMDB_DATA_TYPE_DOUBLE: return data.double_value
        case MMDB_DATA_TYPE_FLOAT: return Double(data.float_value)
        case MMDB_DATA_TYPE_UINT16: return Double(data.uint16)
        case MMDB_DATA_TYPE_UINT32: return Double(data.uint32)
        case MMDB_DATA_TYPE_INT32: return Double(data.int32)
        case MMDB_DATA_TYPE_UINT64: return Double(data.uint64)
        default: return nil
        }
    }
}
