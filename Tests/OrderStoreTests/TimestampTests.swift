import Foundation
import Testing

@testable import OrderStore

@Suite("Stored time stamps")
struct TimestampTests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1_795_430_096.75, "2026-11-23T10:34:56.750Z"),
        (951_782_400.125, "2000-02-29T00:00:00.125Z"),
        (-5.0, "1970-01-01T00:00:00.000Z"),
        (253_402_300_798.5, "9999-12-31T23:59:58.500Z"),
        (1e13, "9999-12-31T23:59:59.000Z"),
    ])
    func aTimeIsStoredAsUTCWithMillisecondsAndFourDigitYears(seconds: Double, text: String) {
        #expect(Timestamp.text(Date(timeIntervalSince1970: seconds)) == text)
    }

    @Test func aStoredTimeReadsBackToTheMillisecond() throws {
        for seconds in stride(from: 1_700_000_000.0, to: 1_900_000_000.0, by: 12_345_678.901) {
            let date = Date(timeIntervalSince1970: seconds)
            let back = try #require(Timestamp.date(Timestamp.text(date)))
            #expect(abs(back.timeIntervalSince1970 - seconds) < 0.001)
        }
    }
}
