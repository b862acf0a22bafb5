#if canImport(Glibc)
import Glibc
#endif

/// A place on Earth in decimal degrees (WGS 84), as `nodes.conf` gives nodes and zones.
public struct GeoPoint: Sendable, Hashable {
    public let latitude: Double
    public let longitude: Double
    /// Kept from construction: a routing decision measures one distance per member.
    private let latitudeRadians: Double
    private let longitudeRadians: Double
    private let cosLatitude: Double

    /// Mean Earth radius, as Apache Traffic Router's `Geolocation` uses.
    public static let earthRadiusKm = 6371.0

    /// Nil unless latitude is in -90...90 and longitude in -180...180 (and both are finite).
    public init?(latitude: Double, longitude: Double) {
        guard latitude.isFinite, longitude.isFinite, (-90...90).contains(latitude), (-180...180).contains(longitude) else { return nil }
        self.latitude = latitude
        self.longitude = longitude
        latitudeRadians = latitude * .pi / 180
        longitudeRadians = longitude * .pi / 180
        cosLatitude = cos(latitudeRadians)
    }

    /// Great-circle distance by the haversine formula, in kilometres.
    public func distanceKm(to other: GeoPoint) -> Double {
        let sinHalfPhi = sin((other.latitudeRadians - latitudeRadians) / 2)
        let sinHalfLambda = sin((other.longitudeRadians - longitudeRadians) / 2)
        let a = sinHalfPhi * sinHalfPhi + cosLatitude * other.cosLatitude * sinHalfLambda * sinHalfLambda
        return 2 * Self.earthRadiusKm * asin(min(1, a.squareRoot()))
    }
}
