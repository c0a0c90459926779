import Foundation

/// An allowance or a charge on an invoice (X12 SAC, EDIFACT ALC).
public struct AllowanceCharge: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable { case allowance, charge }
    public var kind: Kind = .charge
    /// The code of what it is (X12 SAC02 `D240` freight, EDIFACT 7161).
    public var code: String?
    public var amount: Money?
    public var description: String?
    public var origins = FieldOrigins()

    public init() {}
}

/// One line of an invoice.
public struct InvoiceLine: Hashable, Sendable, Codable {
    public var lineNumber: String?
    public var item = ItemIdentifiers()
    public var description: String?
    public var quantity: Quantity?
    public var unitPrice: Money?
    /// Quantity × price, as invoiced.
    public var amount: Money?
    public var origins = FieldOrigins()

    public init() {}
}

/// An invoice (810, INVOIC, cXML InvoiceDetailRequest, UBL Invoice).
public struct Invoice: Hashable, Sendable, Codable {
    public var invoiceNumber: String = ""
    public var invoiceDate: DocumentDate?
    public var purchaseOrderNumber: String?
    public var orderDate: DocumentDate?
    public var shipmentID: String?
    public var currency: String?
    public var parties: [Party] = []
    public var paymentTerms: PaymentTerms?
    public var references: [Reference] = []
    public var lines: [InvoiceLine] = []
    public var allowancesAndCharges: [AllowanceCharge] = []
    /// Sum of the line amounts.
    public var subtotal: Money?
    public var taxAmount: Money?
    /// What is owed: subtotal + charges − allowances + tax.
    public var totalAmount: Money?
    public var source: DocumentSource?
    public var origins = FieldOrigins()

    public init() {}
}
