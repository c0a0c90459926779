import CLibXML2
import Delivery

/// The versions of the system libraries the daemon runs on, for the health check.
enum APIVersions {
    static let libcurl = HTTPClient.libraryVersion
    static let libxml2 = LIBXML_DOTTED_VERSION
}
