import Foundation
import OrderModel
import Testing

/// The integer fast paths of `DecimalMath` give exactly what `Decimal`'s operators give.
@Suite("Decimal arithmetic")
struct DecimalMathTests {
    /// Quantities, prices and stock figures of every usual shape, and values past the fast paths (a significand past
    /// 64 bits, exponents far apart, products that overflow).
    static let values: [Decimal] = [
        "0", "1", "-1", "7", "12", "480", "4.25", "-3.50", "0.001", "1685.14", "100000000", "1000000000000",
        "999999999999999999", "9223372036854775807", "18446744073709551615", "123456789012345678901234",
        "0.000000000000000000001", "1E20", "-0.5", "2.5E-10", "33.333", "1,25",
    ].map { DecimalText.parse($0)! }

    @Test func sumsDifferencesProductsAndComparisonsMatchDecimal() {
        for a in Self.values {
            for b in Self.values {
                #expect(DecimalMath.sum(a, b) == a + b, "\(a) + \(b)")
                #expect(DecimalMath.difference(a, b) == a - b, "\(a) - \(b)")
                #expect(DecimalMath.product(a, b) == a * b, "\(a) * \(b)")
                #expect(DecimalMath.isLess(a, b) == (a < b), "\(a) < \(b)")
            }
        }
    }

    @Test func randomValuesMatchDecimal() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let a = Decimal(
                sign: Bool.random(using: &generator) ? .minus : .plus,
                exponent: Int.random(in: -6...6, using: &generator),
                significand: Decimal(UInt64.random(in: 0...(1 << Int.random(in: 1...62, using: &generator))))
            )
            let b = Decimal(
                sign: Bool.random(using: &generator) ? .minus : .plus,
                exponent: Int.random(in: -6...6, using: &generator),
                significand: Decimal(UInt64.random(in: 0...(1 << Int.random(in: 1...62, using: &generator))))
            )
            #expect(DecimalMath.sum(a, b) == a + b, "\(a) + \(b)")
            #expect(DecimalMath.difference(a, b) == a - b, "\(a) - \(b)")
            #expect(DecimalMath.product(a, b) == a * b, "\(a) * \(b)")
            #expect(DecimalMath.isLess(a, b) == (a < b), "\(a) < \(b)")
        }
    }
}
