import Foundation

/// An amount of money: a decimal and, when known, its ISO 4217 currency.
public struct Money: Hashable, Sendable, Codable, CustomStringConvertible {
    public var amount: Decimal
    public var currency: String?

    @inlinable
    public init(_ amount: Decimal, currency: String? = nil) {
        self.amount = amount
        self.currency = currency
    }

    public var description: String {
        DecimalText.format(self.amount) + (self.currency.map { " \($0)" } ?? "")
    }

    private enum CodingKeys: String, CodingKey { case amount, currency }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.amount = try container.decodeDecimalText(forKey: .amount)
        self.currency = try container.decodeIfPresent(String.self, forKey: .currency)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(DecimalText.format(self.amount), forKey: .amount)
        try container.encodeIfPresent(self.currency, forKey: .currency)
    }
}

/// A quantity in a unit of measure. The unit is the code the document used (`EA`, `CA`, `PCE`); conversions between
/// units are per item and belong to the rules, not to the model.
public struct Quantity: Hashable, Sendable, Codable, CustomStringConvertible {
    public var value: Decimal
    public var unit: String?

    @inlinable
    public init(_ value: Decimal, unit: String? = nil) {
        self.value = value
        self.unit = unit
    }

    public var description: String {
        DecimalText.format(self.value) + (self.unit.map { " \($0)" } ?? "")
    }

    private enum CodingKeys: String, CodingKey { case value, unit }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.value = try container.decodeDecimalText(forKey: .value)
        self.unit = try container.decodeIfPresent(String.self, forKey: .unit)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(DecimalText.format(self.value), forKey: .value)
        try container.encodeIfPresent(self.unit, forKey: .unit)
    }
}
