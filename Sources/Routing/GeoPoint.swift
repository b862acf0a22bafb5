#if canImport(Glibc)
import Glibc
#endif

/// A place on Earth in decimal degrees (WGS 84), as `nodes.conf` gives nodes and zones.
public struct GeoPoint: Sendable, Hashable {
    public let latitude: Double
    public let longitude: Double

    /// Mean Earth radius, as Apache Traffic Router's `Geolocation` uses.
    public static let earthRadiusKm = 6371.0

    /// Nil unless latitude is in -90...90 and longitude in -180...180 (and both are finite).
    public init?(latitude: Double, longitude: Double) {
        guard latitude.isFinite, longitude.isFinite, (-90...90).contains(latitude), (-180...180).contains(longitude) else { return nil }
        self.latitude = latitude
        self.longitude = longitude
    }

    /// Great-circle distance by the haversine formula, in kilometres.
    public func distanceKm(to other: GeoPoint) -> Double {
        let radians = Double.pi / 180
        let phi1 = latitude * radians, phi2 = other.latitude * radians
        let deltaPhi = (other.latitude - latitude) * radians
        let deltaLambda = (other.longitude - longitude) * radians
        let a = sin(deltaPhi / 2) * sin(deltaPhi / 2) + cos(phi1) * cos(phi2) * sin(deltaLambda / 2) * sin(deltaLambda / 2)
        return 2 * Self.earthRadiusKm * atan2(a.squareRoot(), max(0, 1 - a).squareRoot())
    }
}
