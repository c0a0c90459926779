import Foundation
import Testing

@testable import Gateway

@Suite struct AnswerBatchTests {
    /// Regression: the desk's batch belonged to whoever asked while the pipeline committed a chunk, so a hold
    /// released over the API in that window handed its acknowledgement to a batch already flushed (never queued).
    /// Only the thread that began the batch may use it now.
    @Test func onlyThePipelinesThreadDefersIntoItsBatch() async throws {
        let desk = OrderDesk(configuration: Configuration())
        let begun = desk.beginBatch()
        defer { desk.endBatch() }
        #expect(desk.currentBatch === begun)
        let seenElsewhere = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            Thread { continuation.resume(returning: desk.currentBatch != nil) }.start()
        }
        #expect(!seenElsewhere)
    }
}
