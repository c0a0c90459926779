import ArgumentParser

/// The `ordergate` command: the daemon and the admin tools. Each subcommand only parses its arguments and calls the
/// library targets.
@main
struct Ordergate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ordergate",
        abstract: "A B2B order gateway: X12, EDIFACT and XML purchase orders in, acknowledgements out.",
        version: "0.1.0",
        subcommands: [
            ServeCommand.self, StatusCommand.self, FilesCommand.self, InspectCommand.self, ValidateCommand.self,
            TranslateCommand.self, RenderCommand.self, MappingsCommand.self, ImportCommand.self, OrdersCommand.self,
            HoldsCommand.self, QueueCommand.self, TokensCommand.self,
        ]
    )
}
