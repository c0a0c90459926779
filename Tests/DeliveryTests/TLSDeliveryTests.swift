import Foundation
import OrderMapping
import Testing

@testable import Delivery

/// Delivery over TLS to a partner that requires a client certificate: a real HTTPS server (Python's `ssl`, started
/// by the test) with certificates made by `openssl` for the test. Verification is never turned off: an endpoint
/// whose certificate the system does not trust is refused until the profile names its CA file, and the partner
/// refuses us until the profile names our client certificate.
@Suite struct TLSDeliveryTests {
    /// Certificates in a temporary folder, and the HTTPS server using them.
    final class Partner {
        let folder: String
        let process = Process()
        let port: Int

        init() throws {
            self.folder = NSTemporaryDirectory() + "ordergate-tls-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: self.folder, withIntermediateDirectories: true)
            for (name, subject, extra) in [
                ("server", "/CN=127.0.0.1", ["-addext", "subjectAltName=IP:127.0.0.1"]),
                ("client", "/CN=ordergate-test-client", []),
            ] {
                try Self.run(
                    "/usr/bin/openssl",
                    [
                        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", subject,
                        "-keyout", "\(self.folder)/\(name).key", "-out", "\(self.folder)/\(name).crt",
                    ] + extra
                )
            }
            let script = """
                import http.server, ssl, sys
                class Handler(http.server.BaseHTTPRequestHandler):
                    def do_POST(self):
                        self.rfile.read(int(self.headers.get("Content-Length", "0")))
                        self.send_response(200)
                        self.send_header("Content-Length", "2")
                        self.end_headers()
                        self.wfile.write(b"ok")
                    def log_message(self, *args):
                        pass
                server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain("\(self.folder)/server.crt", "\(self.folder)/server.key")
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations("\(self.folder)/client.crt")
                server.socket = context.wrap_socket(server.socket, server_side=True)
                print(server.server_address[1], flush=True)
                server.serve_forever()
                """
            try script.write(toFile: "\(self.folder)/server.py", atomically: true, encoding: .utf8)
            let output = Pipe()
            self.process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            self.process.arguments = ["\(self.folder)/server.py"]
            self.process.standardOutput = output
            try self.process.run()
            let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
            self.port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }

        deinit {
            // SIGKILL, and no waitUntilExit: called from a deinit on a task's thread it spun forever (Foundation's
            // run loop on Linux); Foundation reaps the child itself.
            kill(self.process.processIdentifier, SIGKILL)
            try? FileManager.default.removeItem(atPath: self.folder)
        }

        static func run(_ tool: String, _ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(tool) \(arguments)")
        }

        func endpoint(ca: Bool, client: Bool) -> PartnerProfile.Endpoint {
            PartnerProfile.Endpoint(
                url: "https://127.0.0.1:\(self.port)/inbound",
                clientCertificate: client ? "\(self.folder)/client.crt" : nil,
                clientKey: client ? "\(self.folder)/client.key" : nil,
                caFile: ca ? "\(self.folder)/server.crt" : nil,
                timeoutSeconds: 5
            )
        }
    }

    @Test func verificationStaysOnAndAClientCertificateIsPresented() async throws {
        let partner = try Partner()
        #expect(partner.port > 0)
        let bench = try DeliveryBench()
        let id = try #require(try bench.queue(1, for: "acme").first)
        let worker = bench.worker()
        // A certificate the system does not trust: refused (curl 60), tried again later.
        bench.endpoints.withLock { $0["acme"] = partner.endpoint(ca: false, client: false) }
        #expect(await worker.deliverDue().retried == 1)
        let untrusted = try bench.delivery(id)
        #expect(untrusted.lastError?.contains("(curl 60)") == true, "\(untrusted)")
        // Trusted now, but the partner wants our certificate: the handshake fails, tried again later.
        bench.endpoints.withLock { $0["acme"] = partner.endpoint(ca: true, client: false) }
        bench.advance(seconds: 60)
        #expect(await worker.deliverDue().retried == 1)
        // With the client certificate: delivered.
        bench.endpoints.withLock { $0["acme"] = partner.endpoint(ca: true, client: true) }
        bench.advance(seconds: 60)
        #expect(await worker.deliverDue().delivered == 1)
        #expect(try bench.delivery(id).attempts == 3)
    }
}
