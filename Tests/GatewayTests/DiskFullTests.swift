import Foundation
import Gateway
import OrderStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A disk that fills while partners keep sending: the daemon runs on a small tmpfs (mounted by the test, which
/// needs root, as on the CI machine), the disk is filled to the last byte, files arrive, and nothing may be lost,
/// half-stored or done twice; once there is room again, every file is processed exactly once.
@Suite("Disk full")
struct DiskFullTests {
    /// Mounts a tmpfs of `megabytes` at a new temporary folder; nil when this machine does not allow it.
    static func mountTmpfs(megabytes: Int) -> String? {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ordergate-full-\(UUID())").path
        guard (try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)) != nil
        else { return nil }
        guard mount("tmpfs", folder, "tmpfs", 0, "size=\(megabytes)m,mode=0700") == 0 else {
            try? FileManager.default.removeItem(atPath: folder)
            return nil
        }
        return folder
    }

    static func unmount(_ folder: String) {
        umount2(folder, Int32(MNT_DETACH))
        try? FileManager.default.removeItem(atPath: folder)
    }

    static let canMount: Bool = {
        guard let folder = Self.mountTmpfs(megabytes: 1) else { return false }
        Self.unmount(folder)
        return true
    }()

    /// Writes a file that takes every free byte of the file system; returns its path.
    static func fill(_ folder: String) -> String {
        let path = folder + "/filler"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let chunk = [UInt8](repeating: 0x2E, count: 64 * 1024)
        var size = chunk.count
        while size > 0 {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, size) }
            if written < 0 { size /= 2 }  // ENOSPC: try smaller pieces down to the last byte
        }
        close(fd)
        return path
    }

    @Test(.enabled(if: Self.canMount, "needs permission to mount a tmpfs"))
    func filesArrivingOnAFullDiskWaitAndAreProcessedExactlyOnceWhenThereIsRoom() throws {
        let root = try #require(Self.mountTmpfs(megabytes: 24))
        defer { Self.unmount(root) }
        let gateway = try TestGateway(root: root)
        _ = try gateway.daemon.recover()
        // The partner's files are written while there is room, then the disk fills, then they arrive.
        let orders = (1...6).map { acmeOrder(interchange: 300 + $0, po: "PO-FULL-\($0)") }
        try FileManager.default.createDirectory(atPath: root + "/staging", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/inbox/acme", withIntermediateDirectories: true)
        for (index, bytes) in orders.enumerated() {
            try Data(bytes).write(to: URL(fileURLWithPath: root + "/staging/po-\(index + 1).edi"))
        }
        let filler = Self.fill(root)
        for index in orders.indices {
            try FileManager.default.moveItem(
                atPath: root + "/staging/po-\(index + 1).edi",
                toPath: root + "/inbox/acme/po-\(index + 1).edi"
            )
        }
        for _ in 0..<3 { _ = try? gateway.daemon.pollOnce() }

        // Full: whatever happened, every file is still somewhere (inbox, work or archive), nothing is half-stored,
        // and an acknowledgement exists only for a committed file.
        func located() -> [Int: [String]] {
            var places: [Int: [String]] = [:]
            for index in orders.indices {
                let name = "po-\(index + 1).edi"
                if FileManager.default.fileExists(atPath: root + "/inbox/acme/" + name) {
                    places[index, default: []].append("inbox")
                }
                for folder in ["work", "archive"] {
                    for path in gateway.files(under: folder) where path.hasSuffix("-" + name) {
                        places[index, default: []].append(folder)
                    }
                }
            }
            return places
        }
        #expect(located().count == orders.count)
        #expect(located().values.allSatisfy { $0.count == 1 })
        #expect(try gateway.store.integrityCheck() == ["ok"])
        let whileFull = try gateway.store.read { try $0.summary() }
        #expect(gateway.outbox("acme").count <= (whileFull.files["processed"] ?? 0))

        // Room again: every file is processed once, every order stored once, every 997 written.
        try FileManager.default.removeItem(atPath: filler)
        for _ in 0..<3 { try gateway.daemon.pollOnce() }
        let files = try gateway.fileList()
        #expect(files.count == orders.count)
        #expect(files.allSatisfy { $0.state == "processed" })
        #expect(try gateway.store.read { try $0.summary() }.orders == ["validated": orders.count])
        #expect(gateway.outbox("acme").count == orders.count)
        #expect(gateway.files(under: "work").isEmpty)
        for (index, bytes) in orders.enumerated() {
            let archived = try #require(gateway.files(under: "archive").first { $0.hasSuffix("-po-\(index + 1).edi") })
            #expect(try gateway.bytes(atDataPath: "archive/" + archived) == bytes)
        }
        #expect(try gateway.store.integrityCheck() == ["ok"])
    }
}
