/// A calendar date as a document states it, optionally with a time of day and a UTC offset.
///
/// Documents give local dates (`20261123`), dates with times (`202611231030`) and, in XML, ISO 8601 timestamps with
/// offsets (`2026-11-23T10:30:00+01:00`). The model keeps what was said, without inventing a time zone, and encodes
/// it as ISO 8601 text: `2026-11-23`, `2026-11-23T10:30:00`, `2026-11-23T10:30:00+01:00`.
public struct DocumentDate: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int
    /// Hours, minutes and seconds of the day, when the document gives a time.
    public var time: (hour: Int, minute: Int, second: Int)? {
        get { self.secondOfDay.map { ($0 / 3600, $0 / 60 % 60, $0 % 60) } }
        set { self.secondOfDay = newValue.map { $0.hour * 3600 + $0.minute * 60 + $0.second } }
    }
    /// Minutes east of UTC, when the document gives an offset.
    public var utcOffsetMinutes: Int?
    private var secondOfDay: Int?

    /// A date; nil when it is not a real calendar day.
    public init?(
        year: Int,
        month: Int,
        day: Int,
        hour: Int? = nil,
        minute: Int = 0,
        second: Int = 0,
        utcOffsetMinutes: Int? = nil
    ) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1,
            day <= Self.daysIn(month: month, year: year)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
        if let hour {
            guard (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second) else { return nil }
            self.secondOfDay = hour * 3600 + minute * 60 + second
        }
        if let utcOffsetMinutes {
            guard abs(utcOffsetMinutes) <= 18 * 60 else { return nil }
            self.utcOffsetMinutes = utcOffsetMinutes
        }
    }

    /// The same day without time or offset.
    public var dateOnly: DocumentDate {
        var copy = self
        copy.secondOfDay = nil
        copy.utcOffsetMinutes = nil
        return copy
    }

    /// Days since 0001-01-01 (proleptic Gregorian); for differences between dates.
    public var dayNumber: Int {
        let y = self.month <= 2 ? self.year - 1 : self.year
        let m = self.month <= 2 ? self.month + 12 : self.month
        return 365 * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5 + self.day - 307
    }

    /// Number of days in a month.
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public var description: String {
        var text = Self.pad(self.year, 4) + "-" + Self.pad(self.month, 2) + "-" + Self.pad(self.day, 2)
        if let seconds = self.secondOfDay {
            text +=
                "T" + Self.pad(seconds / 3600, 2) + ":" + Self.pad(seconds / 60 % 60, 2) + ":"
                + Self.pad(seconds % 60, 2)
            if let offset = self.utcOffsetMinutes {
                text +=
                    offset == 0
                    ? "Z"
                    : (offset < 0 ? "-" : "+") + Self.pad(abs(offset) / 60, 2) + ":"
                        + Self.pad(abs(offset) % 60, 2)
            }
        }
        return text
    }

    /// Parses ISO 8601: `2026-11-23`, `2026-11-23T10:30`, `2026-11-23T10:30:00`, with optional fractional seconds
    /// (dropped) and `Z` or `±hh:mm` / `±hhmm`.
    public init?(iso8601 text: String) {
        let bytes = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[from..<(from + count)] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = number(0, 4), let month = number(5, 2), let day = number(8, 2)
        else { return nil }
        if bytes.count == 10 {
            self.init(year: year, month: month, day: day)
            return
        }
        guard bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "), let hour = number(11, 2),
            bytes.count >= 16, bytes[13] == UInt8(ascii: ":"), let minute = number(14, 2)
        else { return nil }
        var index = 16
        var second = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
            guard let value = number(index + 1, 2) else { return nil }
            second = value
            index += 3
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                while index < bytes.count, bytes[index] >= 0x30 && bytes[index] <= 0x39 { index += 1 }
            }
        }
        var offset: Int?
        if index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "Z"):
                guard index + 1 == bytes.count else { return nil }
                offset = 0
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
                guard let hours = number(index + 1, 2) else { return nil }
                var minutes = 0
                if bytes.count == index + 6, bytes[index + 3] == UInt8(ascii: ":"), let value = number(index + 4, 2) {
                    minutes = value
                } else if bytes.count == index + 5, let value = number(index + 3, 2) {
                    minutes = value
                } else if bytes.count != index + 3 {
                    return nil
                }
                offset = sign * (hours * 60 + minutes)
            default:
                return nil
            }
        }
        self.init(
            year: year,
            month: month,
            day: day,
            hour: hour,
            minute: minute,
            second: second,
            utcOffsetMinutes: offset
        )
    }

    /// Parses the compact digit forms EDI writes: `CCYYMMDD`, `YYMMDD` (years before 50 are 20xx),
    /// `CCYYMMDDHHMM` and `CCYYMMDDHHMMSS`, told apart by length; `time` (`HHMM` or `HHMMSS`, from a separate
    /// element) adds a time of day to a date-only value.
    public init?(compact text: String, time: String? = nil) {
        guard let digits = Self.digits(text), [6, 8, 12, 14].contains(digits.count) else { return nil }
        func number(_ from: Int, _ count: Int) -> Int { digits[from..<(from + count)].reduce(0) { $0 * 10 + $1 } }
        let hasCentury = digits.count != 6
        let year = hasCentury ? number(0, 4) : (number(0, 2) < 50 ? 2000 : 1900) + number(0, 2)
        let rest = hasCentury ? 4 : 2
        var clock: [Int]? = digits.count > 8 ? Array(digits[8...]) : nil
        if clock == nil, let time, !time.isEmpty {
            guard let timeDigits = Self.digits(time), timeDigits.count == 4 || timeDigits.count == 6 else { return nil }
            clock = timeDigits
        }
        let hour = clock.map { $0[0] * 10 + $0[1] }
        let minute = clock.map { $0[2] * 10 + $0[3] } ?? 0
        let second = clock.flatMap { $0.count >= 6 ? $0[4] * 10 + $0[5] : nil } ?? 0
        self.init(
            year: year,
            month: number(rest, 2),
            day: number(rest + 2, 2),
            hour: hour,
            minute: minute,
            second: second
        )
    }

    private static func digits(_ text: String) -> [Int]? {
        var result: [Int] = []
        for byte in text.utf8 {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            result.append(Int(byte - 0x30))
        }
        return result
    }

    public static func == (lhs: DocumentDate, rhs: DocumentDate) -> Bool {
        lhs.year == rhs.year && lhs.month == rhs.month && lhs.day == rhs.day && lhs.secondOfDay == rhs.secondOfDay
            && lhs.utcOffsetMinutes == rhs.utcOffsetMinutes
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.year)
        hasher.combine(self.month)
        hasher.combine(self.day)
        hasher.combine(self.secondOfDay)
        hasher.combine(self.utcOffsetMinutes)
    }

    /// Orders by calendar day, then by time of day (offsets are not applied: dates of one document share a zone).
    public static func < (lhs: DocumentDate, rhs: DocumentDate) -> Bool {
        (lhs.year, lhs.month, lhs.day, lhs.secondOfDay ?? -1) < (rhs.year, rhs.month, rhs.day, rhs.secondOfDay ?? -1)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = DocumentDate(iso8601: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "bad date \(text)")
            )
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.description)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
