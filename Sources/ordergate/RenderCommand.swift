import ArgumentParser
import Foundation
import Gateway
import OrderMapping
import OrderModel

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print the outbound document (855, 856, 810, ORDRSP, ...) for a canonical JSON value.",
        discussion: """
            FILE holds one canonical acknowledgement, ship notice or invoice as JSON (as `translate` prints them). \
            The document is rendered with the partner's outbound map, inside an envelope from our identity to the \
            partner's, with the control numbers given.
            """
    )

    @Option(help: "The partner to render for.")
    var partner: String

    @Option(
        help:
            "The document: 855, 856, 810, ORDRSP, DESADV, INVOIC, ConfirmationRequest, OrderResponse, ... or a map ID."
    )
    var document: String

    @Option(help: "The mappings folder.")
    var mappings = MappingFolder.defaultPath

    @Option(help: "Interchange, group and set control number.")
    var controlNumber = 1

    @Option(help: "The document date and time (ISO 8601); default: now, UTC.")
    var now: String?

    @Argument(help: "The canonical value (JSON).")
    var file: String

    func run() throws {
        let set = try MappingFolder.loadForCommand(self.mappings, partner: self.partner)
        guard let profile = set.partners[self.partner] else { throw ValidationError("no partner '\(self.partner)'") }
        let renderer = DocumentRenderer(mappings: set)
        guard let map = renderer.map(for: profile, document: self.document) else {
            throw ValidationError("no outbound map for \(self.document)")
        }
        guard let data = FileManager.default.contents(atPath: self.file) else {
            printError("ordergate: \(self.file): cannot read")
            throw ExitStatus.noInput
        }
        let bytes = Array(data)
        let value: MappedDocument
        do {
            switch map.record {
            case .order: value = .order(try CanonicalJSON.decode(Order.self, from: bytes))
            case .acknowledgement: value = .acknowledgement(try CanonicalJSON.decode(Acknowledgement.self, from: bytes))
            case .shipNotice: value = .shipNotice(try CanonicalJSON.decode(ShipNotice.self, from: bytes))
            case .invoice: value = .invoice(try CanonicalJSON.decode(Invoice.self, from: bytes))
            }
        } catch {
            printError("ordergate: \(self.file): not a canonical \(map.record.rawValue): \(error)")
            throw ExitStatus.dataError
        }
        let date: DocumentDate
        if let now {
            guard let parsed = DocumentDate(iso8601: now) else { throw ValidationError("--now is not ISO 8601") }
            date = parsed
        } else {
            let parts = Calendar(identifier: .gregorian).dateComponents(
                in: TimeZone(identifier: "UTC")!,
                from: Date()
            )
            date = DocumentDate(
                year: parts.year!,
                month: parts.month!,
                day: parts.day!,
                hour: parts.hour!,
                minute: parts.minute!,
                second: parts.second!,
                utcOffsetMinutes: 0
            )!
        }
        do {
            let output = try renderer.render(
                value,
                with: map,
                for: profile,
                controlNumbers: ControlNumbers(
                    interchange: self.controlNumber,
                    group: self.controlNumber,
                    transactionSet: self.controlNumber
                ),
                now: date
            )
            FileHandle.standardOutput.write(Data(output))
        } catch {
            printError("ordergate: \(self.file): \(error)")
            throw ExitStatus.dataError
        }
    }
}
