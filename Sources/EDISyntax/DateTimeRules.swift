/// Calendar checks for X12 `DT`/`TM` and EDIFACT date values, on bytes, without Foundation.
enum DateTimeRules {
    /// `CCYYMMDD` or `YYMMDD`, a real calendar day.
    static func isValidDate(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBufferPointer { self.isValidDate($0) }
    }

    static func isValidDate(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count == 8 || bytes.count == 6, let value = self.digits(bytes) else { return false }
        let day = value % 100
        let month = value / 100 % 100
        var year = value / 10_000
        if bytes.count == 6 { year += year < 50 ? 2000 : 1900 }
        guard (1...12).contains(month), day >= 1 else { return false }
        let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        switch month {
        case 2: return day <= (isLeap ? 29 : 28)
        case 4, 6, 9, 11: return day <= 30
        default: return day <= 31
        }
    }

    /// `HHMM`, `HHMMSS`, `HHMMSSD` or `HHMMSSDD`.
    static func isValidTime(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBufferPointer { self.isValidTime($0) }
    }

    static func isValidTime(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard (4...8).contains(bytes.count), bytes.count != 5, self.digits(bytes) != nil else { return false }
        func pair(_ at: Int) -> Int { Int(bytes[at] &- 0x30) * 10 + Int(bytes[at + 1] &- 0x30) }
        guard pair(0) < 24, pair(2) < 60 else { return false }
        return bytes.count < 6 || pair(4) < 60
    }

    private static func digits(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var value = 0
        for byte in bytes {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }
}
