import ArgumentParser
import Foundation
import Gateway
import OrderStore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show counts per state and the oldest waiting item."
    )

    @OptionGroup var options: ConfigurationOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let configuration = try self.options.load()
        let store = try OrderStore(path: configuration.databasePath)
        let summary = try store.read { try $0.summary() }
        if self.json {
            print(try JSONText.encode(summary))
            return
        }
        func line(_ title: String, _ counts: [String: Int]) {
            let text =
                counts.isEmpty
                ? "none"
                : counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                    .joined(separator: ", ")
            print("\(title): \(text)")
        }
        line("files", summary.files)
        line("orders", summary.orders)
        line("acknowledgements", summary.acknowledgements)
        line("outbound", summary.outbound)
        print("oldest outbound waiting: \(summary.oldestPendingOutbound ?? "none")")
        print("last file processed: \(summary.lastFileProcessedAt ?? "never")")
    }
}

struct FilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files",
        abstract: "List, show and reprocess inbound files.",
        subcommands: [List.self, Show.self, Reprocess.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List inbound files, newest first.")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "Only files in this state (processed, duplicate, quarantined).") var state: String?
        @Option(help: "Only this partner's files.") var partner: String?
        @Option(help: "At most this many.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let configuration = try self.options.load()
            let store = try OrderStore(path: configuration.databasePath)
            let files = try store.read { try $0.files(state: self.state, partnerID: self.partner, limit: self.limit) }
            if self.json {
                print(try JSONText.encode(files))
                return
            }
            for file in files {
                let partner = file.partnerID ?? "-"
                let error = file.error?.split(separator: "\n").first.map(String.init) ?? ""
                print("\(file.id)\t\(file.state)\t\(partner)\t\(file.receivedAt)\t\(file.originalName)\t\(error)")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a file and everything it produced.")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The file ID.") var id: Int64

        func run() throws {
            let configuration = try self.options.load()
            let store = try OrderStore(path: configuration.databasePath)
            guard let detail = try store.read({ try $0.file(id: self.id) }) else {
                printError("ordergate: no file \(self.id)")
                throw ExitStatus.noInput
            }
            print(try JSONText.encode(detail))
        }
    }

    struct Reprocess: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a quarantined (or, with --force, an already processed) file through the pipeline again."
        )
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The file ID.") var id: Int64
        @Flag(help: "Process a file that was already processed (duplicate PO numbers are still caught).")
        var force = false

        func run() throws {
            let daemon = try self.options.openDaemon(logLevel: .warning)
            do {
                let outcome = try daemon.reprocess(fileID: self.id, force: self.force)
                let state = outcome.state.rawValue
                print(
                    "file \(self.id) reprocessed as file \(outcome.fileID): \(state), \(outcome.orders) orders, "
                        + "\(outcome.acknowledgements) acknowledgements"
                )
                if let reason = outcome.reason { print(reason) }
            } catch let error as ReprocessError {
                printError("ordergate: \(error)")
                throw ExitStatus.dataError
            }
        }
    }
}

/// Pretty, sorted JSON for the admin commands.
enum JSONText {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
