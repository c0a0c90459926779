import ArgumentParser
import Foundation
import Gateway
import GatewayHTTP
import Logging
import OrderMapping
import ServiceLifecycle

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
            (Type=notify) it sends READY=1 after the recovery scan and pings the watchdog. The HTTP API listens on \
            the configured address (api: in ordergate.yaml; 127.0.0.1:8080 by default).
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
        var extra: [any Service] = []
        if configuration.apiEnabled {
            let logger = Logger(label: "ordergate")
            let api = APIServer(daemon: daemon, logger: logger).application(
                host: configuration.apiHost,
                port: configuration.apiPort
            ) { port in
                logger.notice("API listening", metadata: ["host": "\(configuration.apiHost)", "port": "\(port)"])
            }
            extra.append(api)
        }
        try await daemon.run(extra: extra)
    }
}
