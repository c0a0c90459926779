import Foundation

/// Decimal numbers as text: the one parser and printer the model uses, so that JSON carries decimal strings and
/// money never passes through `Double`.
public enum DecimalText {
    /// Parses `12`, `-3.50`, `.5`, `+7`, `1,25` (EDIFACT decimal comma) and `1.2E3` (X12 5010 exponent).
    ///
    /// Returns nil for anything else: empty text, two marks, letters, more than 38 significant digits.
    public static func parse(_ text: Substring.UTF8View) -> Decimal? {
        self.number(in: text)
    }

    /// Parses bytes (a document's element, read in place); see `parse(_:)` for the accepted forms.
    @inlinable
    public static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Decimal? {
        self.number(in: bytes)
    }

    @inlinable
    static func number<Bytes: Collection<UInt8>>(in text: Bytes) -> Decimal? {
        var significand: UInt64 = 0
        var overflowDigits: [UInt8] = []
        var exponent = 0
        var isNegative = false
        var sawDigit = false
        var sawMark = false
        var index = text.startIndex
        if index < text.endIndex, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
            isNegative = text[index] == UInt8(ascii: "-")
            index = text.index(after: index)
        }
        while index < text.endIndex {
            let byte = text[index]
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                sawDigit = true
                if overflowDigits.isEmpty, significand <= (UInt64.max - 9) / 10 {
                    significand = significand * 10 + UInt64(byte &- 0x30)
                } else {
                    overflowDigits.append(byte)
                }
                if sawMark { exponent -= 1 }
            case UInt8(ascii: "."), UInt8(ascii: ","):
                guard !sawMark else { return nil }
                sawMark = true
            case UInt8(ascii: "E"), UInt8(ascii: "e"):
                guard sawDigit, let power = self.power(text[text.index(after: index)...]) else { return nil }
                exponent += power
                index = text.endIndex
                continue
            default:
                return nil
            }
            index = text.index(after: index)
        }
        guard sawDigit else { return nil }
        if overflowDigits.isEmpty {
            return Decimal(sign: isNegative ? .minus : .plus, exponent: exponent, significand: Decimal(significand))
        }
        // Long values (rare): let Foundation do the arithmetic on the whole digit string.
        guard overflowDigits.count + String(significand).count <= 38 else { return nil }
        let digits = String(significand) + String(decoding: overflowDigits, as: UTF8.self)
        guard let whole = Decimal(string: digits, locale: Locale(identifier: "en_US_POSIX")) else { return nil }
        return Decimal(sign: isNegative ? .minus : .plus, exponent: exponent, significand: whole)
    }

    /// The exponent after `E`: an optional sign and digits; powers of 100 or more are refused.
    @usableFromInline
    static func power<Bytes: Collection<UInt8>>(_ text: Bytes) -> Int? {
        var index = text.startIndex
        var sign = 1
        if index < text.endIndex, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
            sign = text[index] == UInt8(ascii: "-") ? -1 : 1
            index = text.index(after: index)
        }
        var value = 0
        var digits = 0
        while index < text.endIndex {
            let byte = text[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte &- 0x30)
            guard value < 100 else { return nil }
            digits += 1
            index = text.index(after: index)
        }
        return digits > 0 ? sign * value : nil
    }

    /// Parses a whole string; see `parse(_:)` for the accepted forms.
    public static func parse(_ text: String) -> Decimal? {
        self.parse(Substring(text).utf8)
    }

    /// The canonical text of a decimal: plain notation, `.` as the mark, no trailing zeros (`1.5`, `-20`, `0.035`).
    public static func format(_ value: Decimal) -> String {
        if let text = self.fastFormat(value) { return text }
        var value = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 38, .plain)
        return rounded.description
    }

    /// The same text as `format` for the usual values (a significand that fits 64 bits, a moderate exponent), built
    /// from the exponent and the integer significand: `Decimal.description` dominated formatting money in decisions,
    /// JSON and rendered documents. Nil: use the general path.
    static func fastFormat(_ value: Decimal) -> String? {
        guard !value.isNaN else { return nil }
        if value.isZero { return "0" }
        guard let (significand, exponent, isNegative) = self.parts(value), exponent > -30 && exponent < 30 else {
            return nil
        }
        var integer = significand
        var scale = exponent
        while scale < 0 && integer % 10 == 0 {
            integer /= 10
            scale += 1
        }
        // At most 20 digits, 29 zeros or 29 places, a sign and a point.
        return String(unsafeUninitializedCapacity: 64) { buffer in
            var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
            let count = withUnsafeMutableBytes(of: &digits) { raw in
                var count = 0
                var rest = integer
                repeat {
                    raw[23 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                    count += 1
                } while rest > 0
                return count
            }
            var written = 0
            func put(_ byte: UInt8) {
                buffer[written] = byte
                written += 1
            }
            withUnsafeBytes(of: &digits) { raw in
                let first = 24 - count
                if isNegative { put(UInt8(ascii: "-")) }
                if scale >= 0 {
                    for index in first..<24 { put(raw[index]) }
                    for _ in 0..<scale { put(UInt8(ascii: "0")) }
                } else if count > -scale {
                    let point = 24 + scale
                    for index in first..<point { put(raw[index]) }
                    put(UInt8(ascii: "."))
                    for index in point..<24 { put(raw[index]) }
                } else {
                    put(UInt8(ascii: "0"))
                    put(UInt8(ascii: "."))
                    for _ in 0..<(-scale - count) { put(UInt8(ascii: "0")) }
                    for index in first..<24 { put(raw[index]) }
                }
            }
            return written
        }
    }

    /// A decimal's integer significand, exponent and sign, when the significand fits 64 bits. Read from the value's
    /// bytes (`Decimal` keeps them private): an exponent byte, a byte with the length in 16-bit words and the sign,
    /// two reserved bytes, then eight little-endian 16-bit words. `readsLayout` checks that layout once against
    /// values made through the public API; where it does not hold, the significand comes through `NSDecimalNumber`
    /// (five times slower).
    static func parts(_ value: Decimal) -> (significand: UInt64, exponent: Int, isNegative: Bool)? {
        if Self.readsLayout { return self.layoutParts(value) }
        let significand = NSDecimalNumber(decimal: value.significand).int64Value
        // int64Value truncates silently: only a significand that round-trips is exact.
        guard significand > 0, Decimal(significand) == value.significand else { return nil }
        return (UInt64(significand), value.exponent, value.sign == .minus)
    }

    @inline(__always)
    private static func layoutParts(_ value: Decimal) -> (significand: UInt64, exponent: Int, isNegative: Bool)? {
        withUnsafeBytes(of: value) { raw in
            guard raw.count == 20 else { return nil }
            let flags = raw[1]
            let words = Int(flags >> 4)
            guard words <= 4 else { return nil }
            var significand: UInt64 = 0
            for word in 0..<words {
                significand |= UInt64(raw.loadUnaligned(fromByteOffset: 4 + 2 * word, as: UInt16.self)) << (16 * word)
            }
            // A zero significand (only a malformed value has one with a length) takes the general path.
            guard significand != 0 else { return nil }
            return (significand, Int(Int8(bitPattern: raw[0])), flags & 0x08 != 0)
        }
    }

    /// Whether `layoutParts` reads this platform's `Decimal` right: checked on values of each shape, rebuilt through
    /// the public initialiser.
    static let readsLayout: Bool = {
        let samples = ["-1234.56", "480", "0.001", "7", "-0.5", "18446744073709551615", "123456789012.345678", "1E20"]
        for text in samples {
            guard let value = Decimal(string: text), let (significand, exponent, isNegative) = layoutParts(value),
                exponent == value.exponent, isNegative == (value.sign == .minus),
                Decimal(sign: isNegative ? .minus : .plus, exponent: exponent, significand: Decimal(significand))
                    == value
            else { return false }
        }
        // A significand past 64 bits is refused, not cut.
        guard let large = Decimal(string: "18446744073709551616"), layoutParts(large) == nil else { return false }
        return true
    }()

    /// `value` with exactly `places` decimals, rounded half-up (`format(1.5, places: 2)` is `1.50`).
    public static func format(_ value: Decimal, places: Int) -> String {
        var value = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, places, .plain)
        var text = self.fastFormat(rounded) ?? rounded.description
        if places > 0 {
            if let dot = text.firstIndex(of: ".") {
                let present = text.distance(from: dot, to: text.endIndex) - 1
                if present < places { text += String(repeating: "0", count: places - present) }
            } else {
                text += "." + String(repeating: "0", count: places)
            }
        }
        return text
    }
}

extension KeyedDecodingContainer {
    func decodeDecimalText(forKey key: Key) throws -> Decimal {
        let text = try self.decode(String.self, forKey: key)
        guard let value = DecimalText.parse(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key,
                in: self,
                debugDescription: "\"\(text)\" is not a decimal"
            )
        }
        return value
    }

    func decodeDecimalTextIfPresent(forKey key: Key) throws -> Decimal? {
        guard self.contains(key) else { return nil }
        return try self.decodeDecimalText(forKey: key)
    }
}
