import Foundation
import Spool
import Testing

@Suite("Directory protocol")
struct SpoolTests {
    @Test(arguments: ["a.tmp", "a.TMP", "a.part", "a.partial", "a.filepart", ".hidden", "~lock"])
    func temporaryNamesAreNotTaken(name: String) {
        #expect(Spool.isTemporaryName(name))
    }

    @Test(arguments: ["po.edi", "ORDERS.txt", "850_2026.x12", "order.xml"])
    func ordinaryNamesAreTaken(name: String) {
        #expect(!Spool.isTemporaryName(name))
    }

    @Test func x12IsCompleteOnlyWithItsIEATrailer() {
        let isa =
            "ISA*00*          *00*          *ZZ*A              *ZZ*B              *261120*0930*U*00401*000000001*0*P*>~"
        let whole = isa + "\nGS*PO*A*B*20261120*0930*1*X*004010~\nIEA*1*000000001~\n"
        #expect(Completeness.check(head: Array(whole.utf8), tail: Array(whole.utf8)) == .complete)
        let cut = isa + "\nGS*PO*A*B*20261120*0930*1*X*004010~\nST*850*0001~"
        #expect(Completeness.check(head: Array(cut.utf8), tail: Array(cut.utf8)) != .complete)
        // Regression: a line break as the segment terminator (corpus 850-po-ediengine.edi) was taken for padding.
        let newlineTerminated = String(isa.dropLast()) + "\nGS*PO*A*B*20261120*0930*1*X*004010\nIEA*1*000000001\n"
        #expect(
            Completeness.check(head: Array(newlineTerminated.utf8), tail: Array(newlineTerminated.utf8)) == .complete
        )
        // An X12 file may lack its very last terminator (corpus 850-po-issue135-edinet.edi), but not half an IEA.
        let unterminated = isa + "\nGS*PO*A*B*20261120*0930*1*X*004010~\nIEA*1*000000001"
        #expect(Completeness.check(head: Array(unterminated.utf8), tail: Array(unterminated.utf8)) == .complete)
        let midTrailer = isa + "\nIEA*1*0000"
        #expect(Completeness.check(head: Array(midTrailer.utf8), tail: Array(midTrailer.utf8)) != .complete)
    }

    @Test func edifactIsCompleteWithUNZEvenAfterAReleasedTerminator() {
        let whole = "UNA:+.? 'UNB+UNOC:3+A+B+261120:0930+1'UNH+1+ORDERS:D:96A:UN'FTX+AAA+++it?'s'UNT+3+1'UNZ+1+1'\n"
        #expect(Completeness.check(head: Array(whole.utf8), tail: Array(whole.utf8)) == .complete)
        let cut = "UNB+UNOC:3+A+B+261120:0930+1'UNH+1+ORDERS:D:96A:UN'FTX+AAA+++UNZ?'"
        #expect(Completeness.check(head: Array(cut.utf8), tail: Array(cut.utf8)) != .complete)
    }

    @Test func xmlIsCompleteWhenItsRootIsClosed() {
        let whole = "<?xml version=\"1.0\"?>\n<!-- c -->\n<cXML payloadID=\"1\"><Request/></cXML>\n"
        #expect(Completeness.check(head: Array(whole.utf8), tail: Array(whole.utf8)) == .complete)
        let prefixed = "<ubl:Order xmlns:ubl=\"urn:x\"><ubl:ID>1</ubl:ID></ubl:Order>"
        #expect(Completeness.check(head: Array(prefixed.utf8), tail: Array(prefixed.utf8)) == .complete)
        let cut = "<cXML payloadID=\"1\"><Request></Request>"
        #expect(Completeness.check(head: Array(cut.utf8), tail: Array(cut.utf8)) != .complete)
    }

    @Test func somethingElseIsUnrecognizedNotIncomplete() {
        #expect(Completeness.check(head: Array("hello".utf8), tail: Array("hello".utf8)) == .unrecognized)
    }

    @Test func aFileIsReadyOnlyAfterItsSizeAndTimeStayedStableForTheSettleTime() {
        var tracker = StabilityTracker(settleNanoseconds: 100)
        let wall: Int64 = 1_000_000
        var file = InboxFile(path: "/in/a", name: "a", size: 10, modified: wall)
        #expect(tracker.observe(file, now: 0, wallClock: wall) == .wait(100))
        #expect(tracker.observe(file, now: 50, wallClock: wall + 50) == .wait(50))
        file.size = 20  // still growing
        #expect(tracker.observe(file, now: 60, wallClock: wall + 60) == .wait(100))
        #expect(tracker.observe(file, now: 160, wallClock: wall + 160) == .ready)
        // A file moved in with an old mtime is ready at first sight.
        let old = InboxFile(path: "/in/b", name: "b", size: 5, modified: wall - 1000)
        #expect(tracker.observe(old, now: 0, wallClock: wall) == .ready)
    }

    /// Regression: scanning one folder forgot the files seen in the others, so an incomplete file never aged.
    @Test func sightingsInOtherFoldersSurviveAScanOfOneFolder() {
        var tracker = StabilityTracker(settleNanoseconds: 0)
        let file = InboxFile(path: "/in/acme/a", name: "a", size: 1, modified: 0)
        _ = tracker.observe(file, now: 0, wallClock: 0)
        tracker.retain(only: [], in: "/in/nordhandel")
        #expect(tracker.age(of: "/in/acme/a", now: 500) == 500)
        tracker.retain(only: [], in: "/in/acme")
        #expect(tracker.age(of: "/in/acme/a", now: 500) == 0)
    }

    @Test func workNamesKeepThePartnerAndTheOriginalNameAndAreUnique() {
        let one = Spool.workName(partnerID: "acme", originalName: "po-1.edi", at: 1_795_430_400, tag: 1)
        let two = Spool.workName(partnerID: "acme", originalName: "po-1.edi", at: 1_795_430_400, tag: 2)
        #expect(one != two)
        #expect(one.hasPrefix("acme/20261123T"))
        #expect(Spool.originalName(ofWorkName: one) == "po-1.edi")
        #expect(Spool.partnerID(ofWorkName: one) == "acme")
        #expect(Spool.partnerID(ofWorkName: Spool.workName(partnerID: nil, originalName: "x", at: 0, tag: 0)) == nil)
        #expect(Spool.archivePath(workName: one, at: 1_795_430_400).hasPrefix("2026/11/23/acme/"))
    }

    @Test func claimArchiveAndQuarantineMoveTheBytesUnchanged() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let spool = Spool(dataFolder: root + "/data")
        try spool.prepare()
        try FileManager.default.createDirectory(atPath: root + "/inbox", withIntermediateDirectories: true)
        let bytes: [UInt8] = Array("ISA...\u{0}\u{FF}".utf8)
        for name in ["a.edi", "b.edi"] {
            try Data(bytes).write(to: URL(fileURLWithPath: root + "/inbox/" + name))
        }
        let files = try spool.candidates(in: root + "/inbox")
        #expect(files.map(\.name) == ["a.edi", "b.edi"] || files.map(\.name) == ["b.edi", "a.edi"])
        let first = try #require(files.first { $0.name == "a.edi" })
        let second = try #require(files.first { $0.name == "b.edi" })
        #expect(try spool.claim(first, workName: "acme/1-a.edi") != nil)
        #expect(try spool.claim(first, workName: "acme/1-a.edi") == nil)  // already gone
        #expect(try spool.claim(second, workName: "acme/2-b.edi") != nil)
        #expect(try spool.workFiles() == ["acme/1-a.edi", "acme/2-b.edi"])
        try spool.archive(workName: "acme/1-a.edi", relativePath: "2026/11/23/acme/1-a.edi")
        try spool.quarantine(workName: "acme/2-b.edi", report: "why")
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: spool.archive + "/2026/11/23/acme/1-a.edi"))) == bytes)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: spool.quarantine + "/acme/2-b.edi"))) == bytes)
        #expect(try String(contentsOfFile: spool.quarantine + "/acme/2-b.edi.error.txt", encoding: .utf8) == "why")
        #expect(try spool.workFiles().isEmpty)
    }

    /// Regression (crash test): a kill while the report was written left an empty report that was never rewritten.
    @Test func anEmptyReportLeftByACrashIsReplaced() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let spool = Spool(dataFolder: root)
        try spool.prepare()
        try FileSystem.makeDirectories(spool.work + "/acme")
        try FileSystem.makeDirectories(spool.quarantine + "/acme")
        try FileSystem.createFile(spool.work + "/acme/x.edi", bytes: [1])
        try FileSystem.createFile(spool.quarantine + "/acme/x.edi.error.txt", bytes: [])
        try spool.quarantine(workName: "acme/x.edi", report: "file ID: 7\nwhy")
        #expect(try FileSystem.read(spool.quarantine + "/acme/x.edi.error.txt") == Array("file ID: 7\nwhy".utf8))
    }

    @Test func aMoveNeverReplacesAnExistingFile() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileSystem.makeDirectories(root)
        try FileSystem.createFile(root + "/a", bytes: [1])
        try FileSystem.createFile(root + "/b", bytes: [2])
        #expect(throws: SpoolError.self) { try FileSystem.move(root + "/a", to: root + "/b") }
        #expect(try FileSystem.read(root + "/b") == [2])
        #expect(throws: SpoolError.self) { try FileSystem.createFile(root + "/b", bytes: [3]) }
    }

    /// A move and a publish say which name was missing or in the way, and a publish leaves one name for the file.
    @Test func aMoveOrAPublishReportsWhatWasInTheWayAndPublishingLeavesOneName() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileSystem.makeDirectories(root)
        try FileSystem.createFile(root + "/.a.tmp", bytes: [1])
        try FileSystem.createFile(root + "/b", bytes: [2])
        #expect(throws: SpoolError("rename (target exists)", root + "/b", errno: EEXIST)) {
            try FileSystem.move(root + "/.a.tmp", to: root + "/b")
        }
        #expect(throws: SpoolError("rename", root + "/missing", errno: ENOENT)) {
            try FileSystem.move(root + "/missing", to: root + "/c")
        }
        #expect(throws: SpoolError.self) { try FileSystem.publish(root + "/.a.tmp", as: root + "/b") }
        #expect(try FileSystem.read(root + "/b") == [2])
        try FileSystem.publish(root + "/.a.tmp", as: root + "/a")
        #expect(try FileSystem.read(root + "/a") == [1])
        #expect(!FileSystem.exists(root + "/.a.tmp"))
    }
}
