import Foundation
import Spool
import Testing

@testable import Gateway

@Suite("Outbox writers")
struct ParallelFilesTests {
    /// The outbox writes a batch's files on several threads: every index runs once, and each failure comes back at
    /// its own index (a failing folder must hold back only its own rows).
    @Test func everyIndexRunsOnceAndEachErrorComesBackAtItsIndex() {
        final class Seen: @unchecked Sendable {
            let lock = NSLock()
            var counts = [Int](repeating: 0, count: 100)
            func add(_ index: Int) {
                self.lock.lock()
                self.counts[index] += 1
                self.lock.unlock()
            }
        }
        let seen = Seen()
        let errors = ParallelFiles.run(100, width: 8) { index in
            seen.add(index)
            if index % 7 == 3 { throw SpoolError("write", "file-\(index)", errno: ENOSPC) }
        }
        #expect(seen.counts.allSatisfy { $0 == 1 })
        #expect(errors.count == 100)
        for (index, error) in errors.enumerated() {
            #expect((error != nil) == (index % 7 == 3), "index \(index)")
            if let error { #expect("\(error)".contains("file-\(index)")) }
        }
        // One call, or one thread: the same answers, in order, on the caller's thread.
        let single = ParallelFiles.run(3, width: 1) { index in
            if index == 1 { throw SpoolError("write", "one", errno: EIO) }
        }
        #expect(single.map { $0 != nil } == [false, true, false])
    }
}
