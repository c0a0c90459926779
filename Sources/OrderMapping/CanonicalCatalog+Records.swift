import Foundation
import OrderModel

// The canonical field names that mapping files use, one catalog per record type. The README's mapping reference
// lists the same names; `ordergate mappings fields` prints them from here.

private enum Nested {
    static let address: [FieldSlot<Address>] = [
        .textList("lines", \.lines), .text("city", \.city), .text("region", \.region),
        .text("postalCode", \.postalCode), .text("country", \.country),
    ]
    static let contact: [FieldSlot<Contact>] = [
        .text("name", \.name), .text("phone", \.phone), .text("email", \.email),
    ]
    static let item: [FieldSlot<ItemIdentifiers>] = [
        .text("buyerPart", \.buyerPart), .text("vendorPart", \.vendorPart), .text("gtin", \.gtin),
        .text("sku", \.sku), .text("manufacturerPart", \.manufacturerPart),
    ]
    static let terms: [FieldSlot<PaymentTerms>] = [
        .text("typeCode", \.typeCode), .text("basisDateCode", \.basisDateCode),
        .decimal("discountPercent", \.discountPercent), .integer("discountDays", \.discountDays),
        .integer("netDays", \.netDays), .text("description", \.description),
    ]
    static let carrier: [FieldSlot<Carrier>] = [
        .text("scac", \.scac), .text("service", \.service), .text("transportMethod", \.transportMethod),
        .text("routing", \.routing),
    ]

    static func item<Root>(_ path: WritableKeyPath<Root, ItemIdentifiers> & Sendable) -> [FieldSlot<Root>] {
        self.item.map { $0.nested(in: path, prefix: "item") }
    }
}

extension Order: MappableRecord {
    static let recordName = "order"
    static let catalog = RecordCatalog<Order>(
        fields: [
            .text("purchaseOrderNumber", \.purchaseOrderNumber), .text("releaseNumber", \.releaseNumber),
            .code("purpose", \.purpose), .text("orderType", \.orderType), .date("orderDate", \.orderDate),
            .date("requestedShipDate", \.requestedShipDate),
            .date("requestedDeliveryDate", \.requestedDeliveryDate), .date("cancelAfter", \.cancelAfter),
            .text("currency", \.currency), .integer("declaredLineCount", \.declaredLineCount),
            .decimal("declaredQuantityTotal", \.declaredQuantityTotal), .money("declaredAmount", \.declaredAmount),
        ]
            + Nested.terms.map {
                $0.nested(in: \Order.paymentTerms, prefix: "paymentTerms", makeEmpty: PaymentTerms.init)
            }
            + Nested.carrier.map { $0.nested(in: \Order.carrier, prefix: "carrier", makeEmpty: Carrier.init) },
        collections: [
            CollectionSlot(name: "parties", path: \Order.parties),
            CollectionSlot(name: "references", path: \Order.references),
            CollectionSlot(name: "notes", path: \Order.notes),
            CollectionSlot(name: "lines", path: \Order.lines),
        ]
    )
}

extension OrderLine: MappableRecord {
    static let recordName = "line"
    static let catalog = RecordCatalog<OrderLine>(
        fields: [
            .text("lineNumber", \.lineNumber), .text("description", \.description), .quantity("quantity", \.quantity),
            .code("change", \.change),
            .money("unitPrice", \.unitPrice), .text("priceBasis", \.priceBasis),
            .date("requestedShipDate", \.requestedShipDate), .date("requestedDeliveryDate", \.requestedDeliveryDate),
        ] + Nested.item(\.item),
        collections: [
            CollectionSlot(name: "parties", path: \OrderLine.parties),
            CollectionSlot(name: "references", path: \OrderLine.references),
            CollectionSlot(name: "notes", path: \OrderLine.notes),
        ]
    )
}

extension Party: MappableRecord {
    static let recordName = "party"
    static let catalog = RecordCatalog<Party>(
        fields: [
            .code("role", \.role), .text("roleCode", \.roleCode), .text("name", \.name),
            .text("identifier", \.identifier), .text("identifierQualifier", \.identifierQualifier),
        ]
            + Nested.address.map { $0.nested(in: \Party.address, prefix: "address", makeEmpty: Address.init) }
            + Nested.contact.map { $0.nested(in: \Party.contact, prefix: "contact", makeEmpty: Contact.init) },
        collections: [CollectionSlot(name: "references", path: \Party.references)]
    )
}

extension Reference: MappableRecord {
    static let recordName = "reference"
    static let catalog = RecordCatalog<Reference>(
        fields: [.text("qualifier", \.qualifier), .text("value", \.value), .text("description", \.description)]
    )
    var origins: FieldOrigins {
        get { FieldOrigins() }
        set {}
    }
}

extension Note: MappableRecord {
    static let recordName = "note"
    static let catalog = RecordCatalog<Note>(fields: [.text("code", \.code), .text("text", \.text)])
    var origins: FieldOrigins {
        get { FieldOrigins() }
        set {}
    }
}

extension Acknowledgement: MappableRecord {
    static let recordName = "acknowledgement"
    static let catalog = RecordCatalog<Acknowledgement>(
        fields: [
            .text("acknowledgementNumber", \.acknowledgementNumber), .date("date", \.date),
            .code("status", \.status), .code("purpose", \.purpose),
            .text("purchaseOrderNumber", \.purchaseOrderNumber), .date("orderDate", \.orderDate),
            .text("currency", \.currency),
        ],
        collections: [
            CollectionSlot(name: "parties", path: \Acknowledgement.parties),
            CollectionSlot(name: "references", path: \Acknowledgement.references),
            CollectionSlot(name: "notes", path: \Acknowledgement.notes),
            CollectionSlot(name: "lines", path: \Acknowledgement.lines),
        ]
    )
}

extension AcknowledgedLine: MappableRecord {
    static let recordName = "acknowledged line"
    static let catalog = RecordCatalog<AcknowledgedLine>(
        fields: [
            .text("lineNumber", \.lineNumber), .text("description", \.description),
            .quantity("orderedQuantity", \.orderedQuantity), .money("orderedUnitPrice", \.orderedUnitPrice),
            .text("orderedPriceBasis", \.orderedPriceBasis), .code("change", \.change), .code("status", \.status),
        ] + Nested.item(\.item),
        collections: [CollectionSlot(name: "dispositions", path: \AcknowledgedLine.dispositions)]
    )
}

extension LineDisposition: MappableRecord {
    static let recordName = "disposition"
    static let catalog = RecordCatalog<LineDisposition>(
        fields: [
            .code("status", \.status), .quantity("quantity", \.quantity), .money("unitPrice", \.unitPrice),
            .date("scheduledShipDate", \.scheduledShipDate), .text("reason", \.reason),
        ]
            + Nested.item.map {
                $0.nested(in: \LineDisposition.substitute, prefix: "substitute", makeEmpty: ItemIdentifiers.init)
            }
    )
}

extension ShipNotice: MappableRecord {
    static let recordName = "ship notice"
    static let catalog = RecordCatalog<ShipNotice>(
        fields: [
            .text("shipmentID", \.shipmentID), .date("date", \.date), .date("shippedDate", \.shippedDate),
            .date("estimatedDeliveryDate", \.estimatedDeliveryDate), .textList("trackingNumbers", \.trackingNumbers),
            .text("billOfLading", \.billOfLading), .quantity("grossWeight", \.grossWeight),
            .integer("packageCount", \.packageCount),
        ] + Nested.carrier.map { $0.nested(in: \ShipNotice.carrier, prefix: "carrier", makeEmpty: Carrier.init) },
        collections: [
            CollectionSlot(name: "parties", path: \ShipNotice.parties),
            CollectionSlot(name: "orders", path: \ShipNotice.orders),
        ]
    )
}

extension ShippedOrder: MappableRecord {
    static let recordName = "shipped order"
    static let catalog = RecordCatalog<ShippedOrder>(
        fields: [.text("purchaseOrderNumber", \.purchaseOrderNumber), .date("orderDate", \.orderDate)],
        collections: [CollectionSlot(name: "packs", path: \ShippedOrder.packs)]
    )
}

extension Pack: MappableRecord {
    static let recordName = "pack"
    static let catalog = RecordCatalog<Pack>(
        fields: [.text("sscc", \.sscc), .text("packaging", \.packaging), .quantity("grossWeight", \.grossWeight)],
        collections: [CollectionSlot(name: "items", path: \Pack.items)]
    )
}

extension ShippedItem: MappableRecord {
    static let recordName = "shipped item"
    static let catalog = RecordCatalog<ShippedItem>(
        fields: [
            .text("lineNumber", \.lineNumber), .text("description", \.description), .quantity("quantity", \.quantity),
            .quantity("orderedQuantity", \.orderedQuantity),
        ] + Nested.item(\.item)
    )
}

extension Invoice: MappableRecord {
    static let recordName = "invoice"
    static let catalog = RecordCatalog<Invoice>(
        fields: [
            .text("invoiceNumber", \.invoiceNumber), .date("invoiceDate", \.invoiceDate),
            .text("purchaseOrderNumber", \.purchaseOrderNumber), .date("orderDate", \.orderDate),
            .text("shipmentID", \.shipmentID), .text("currency", \.currency), .money("subtotal", \.subtotal),
            .money("taxAmount", \.taxAmount), .money("totalAmount", \.totalAmount),
        ]
            + Nested.terms.map {
                $0.nested(in: \Invoice.paymentTerms, prefix: "paymentTerms", makeEmpty: PaymentTerms.init)
            },
        collections: [
            CollectionSlot(name: "parties", path: \Invoice.parties),
            CollectionSlot(name: "references", path: \Invoice.references),
            CollectionSlot(name: "lines", path: \Invoice.lines),
            CollectionSlot(name: "allowancesAndCharges", path: \Invoice.allowancesAndCharges),
        ]
    )
}

extension InvoiceLine: MappableRecord {
    static let recordName = "invoice line"
    static let catalog = RecordCatalog<InvoiceLine>(
        fields: [
            .text("lineNumber", \.lineNumber), .text("description", \.description), .quantity("quantity", \.quantity),
            .money("unitPrice", \.unitPrice), .money("amount", \.amount),
        ] + Nested.item(\.item)
    )
}

extension AllowanceCharge: MappableRecord {
    static let recordName = "allowance or charge"
    static let catalog = RecordCatalog<AllowanceCharge>(
        fields: [
            .code("kind", \.kind), .text("code", \.code), .money("amount", \.amount),
            .text("description", \.description),
        ]
    )
}

extension AllowanceCharge.Kind: CaseIterable {
    public static let allCases: [AllowanceCharge.Kind] = [.allowance, .charge]
}
