import ArgumentParser
import Foundation
import Gateway
import Logging
import OrderMapping

/// Options every daemon-side command shares: where the configuration is.
struct ConfigurationOptions: ParsableArguments {
    @Option(name: .long, help: "The configuration file (default: ordergate.yaml in the working directory, if any).")
    var config: String?

    func load() throws -> Configuration {
        do {
            return try Configuration.load(path: self.config)
        } catch let error as ConfigurationError {
            printError("ordergate: \(error)")
            throw ExitStatus.configurationError
        }
    }

    /// Opens the daemon's store, mappings and folders; a broken mapping folder is reported and exits 78.
    func openDaemon(logLevel: Logger.Level? = nil) throws -> Daemon {
        let configuration = try self.load()
        var logger = Logger(label: "ordergate")
        logger.logLevel = logLevel ?? configuration.logLevel
        return try Self.reportingMappingErrors { try Daemon(configuration: configuration, logger: logger) }
    }

    /// Runs `body`; a broken mapping folder is reported and exits 78.
    static func reportingMappingErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as MappingFolderError {
            printError("ordergate: \(error)")
            throw ExitStatus.configurationError
        } catch let error as MappingDiagnostics {
            printError(error.description)
            throw ExitStatus.configurationError
        }
    }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: watch the inbox folders, store orders, write acknowledgements to the outbox.",
        discussion: """
            Runs until SIGTERM or SIGINT (the file in hand is finished first). SIGHUP reloads the mapping files and \
            partner profiles; a broken file keeps the last good version and is reported in the log. Under systemd \
            (Type=notify) it sends READY=1 after the recovery scan and pings the watchdog.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try self.options.load()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = configuration.logLevel
            return handler
        }
        let daemon = try self.options.openDaemon()
        try await daemon.run()
    }
}
