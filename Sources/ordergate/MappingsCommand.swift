import ArgumentParser
import Gateway
import OrderMapping

struct MappingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mappings",
        abstract: "Check mapping files and partner profiles; list canonical fields.",
        subcommands: [Check.self, Fields.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every partner and mapping file of a folder.",
            discussion: "Prints file:line:column: message for each mistake. Exits 0 when all is well, 65 otherwise."
        )

        @Argument(help: "The mappings folder.")
        var folder = MappingFolder.defaultPath

        func run() throws {
            do {
                let set = try MappingFolder.load(self.folder)
                print(
                    "\(self.folder): \(set.inbound.count) inbound and \(set.outbound.count) outbound maps, "
                        + "\(set.partners.count) partners: no errors"
                )
            } catch let error as MappingDiagnostics {
                print(error.description)
                printError("\(error.diagnostics.count) error\(error.diagnostics.count == 1 ? "" : "s")")
                throw ExitStatus.dataError
            } catch let error as MappingFolderError {
                printError("ordergate: \(error)")
                throw ExitStatus.noInput
            }
        }
    }

    struct Fields: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the canonical fields a mapping can use.")

        @Argument(help: "order, acknowledgement, shipNotice or invoice.")
        var record: String = "order"

        func run() throws {
            guard let kind = RecordKind(rawValue: self.record) else {
                throw ValidationError("record is one of: order, acknowledgement, shipNotice, invoice")
            }
            for (name, type) in CanonicalFields.list(kind) { print("\(name)\t\(type)") }
        }
    }
}
