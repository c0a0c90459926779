import Crypto
import Foundation
import OrderStore

/// API tokens: `og_` and 43 characters of base64url over 32 random bytes; stored as their SHA-256 only.
public enum APITokens {
    /// A new secret token (shown once, to whoever created it).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let text = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "og_" + text
    }

    /// The hex SHA-256 the token is stored and looked up by. The lookup is by this hash (an index), so how long it
    /// takes tells nothing about the secret.
    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Parses a role as given on the command line: `admin`, `erp` or `partner:<id>`.
    public static func role(_ text: String) -> (APIToken.Role, String?)? {
        switch text {
        case "admin": return (.admin, nil)
        case "erp": return (.erp, nil)
        default:
            guard text.hasPrefix("partner:"), text.count > "partner:".count else { return nil }
            return (.partner, String(text.dropFirst("partner:".count)))
        }
    }
}
