import Foundation
import Gateway
import Testing

/// SIGHUP reloads mappings and partner profiles: a good change takes effect at once, a broken file keeps the last
/// good version (and says where it broke).
@Suite("Reload")
struct ReloadTests {
    /// Acme's profile under another partner ID and sender identity.
    static func profile(id: String, sender: String) throws -> String {
        let acme = try String(
            contentsOf: TestGateway.repository.appendingPathComponent("mappings/partners/acme.yaml"),
            encoding: .utf8
        )
        return
            acme
            .replacingOccurrences(of: "partner: acme", with: "partner: \(id)")
            .replacingOccurrences(of: "id: ACMERETAIL, group: ACMERETAIL", with: "id: \(sender), group: \(sender)")
            .replacingOccurrences(of: "inbox: acme", with: "inbox: \(id)")
            .replacingOccurrences(of: "outbox: acme", with: "outbox: \(id)")
    }

    static func order(from sender: String, interchange: Int, po: String) -> [UInt8] {
        let text = String(decoding: acmeOrder(interchange: interchange, po: po), as: UTF8.self)
            .replacingOccurrences(
                of: "ZZ*ACMERETAIL     *",
                with: "ZZ*\(sender.padding(toLength: 15, withPad: " ", startingAt: 0))*"
            )
            .replacingOccurrences(of: "GS*PO*ACMERETAIL*", with: "GS*PO*\(sender)*")
        return Array(text.utf8)
    }

    @Test func aNewPartnerProfileIsServedAfterAReloadAndABrokenOneKeepsTheLastGoodSet() throws {
        let gateway = try TestGateway()
        // Before the reload nobody owns inbox/beta: its file waits there (an unknown folder is not read).
        try gateway.drop(Self.order(from: "BETASTORES", interchange: 1, po: "B-1"), as: "b1.edi", into: "beta")
        try gateway.daemon.pollOnce()
        #expect(try gateway.fileList().isEmpty)

        try Self.profile(id: "beta", sender: "BETASTORES").write(
            toFile: gateway.root + "/mappings/partners/beta.yaml",
            atomically: true,
            encoding: .utf8
        )
        #expect(gateway.daemon.reloadMappings())
        try gateway.daemon.pollOnce()
        #expect(try gateway.fileList().map(\.state) == ["processed"])
        #expect(gateway.outbox("beta").count == 1)

        // A broken profile: the reload is refused and the last good set (with beta) stays active.
        try "partner: [unclosed\n".write(
            toFile: gateway.root + "/mappings/partners/broken.yaml",
            atomically: true,
            encoding: .utf8
        )
        #expect(!gateway.daemon.reloadMappings())
        try gateway.drop(Self.order(from: "BETASTORES", interchange: 2, po: "B-2"), as: "b2.edi", into: "beta")
        try gateway.daemon.pollOnce()
        #expect(try gateway.fileList().map(\.state) == ["processed", "processed"])
        #expect(gateway.outbox("beta").count == 2)
    }
}
