import ArgumentParser
import Gateway
import OrderMapping

extension MappingFolder {
    /// Loads the folder for a command that needs it; mapping errors are printed and end the command with 78
    /// (EX_CONFIG), and `partner`, when given, must be one of the folder's partners.
    static func loadForCommand(_ folder: String, partner: String? = nil) throws -> MappingSet {
        let set: MappingSet
        do {
            set = try self.load(folder)
        } catch let error as MappingDiagnostics {
            printError(error.description)
            throw ExitStatus.configurationError
        } catch let error as MappingFolderError {
            throw InputFileError(path: error.path, reason: error.reason)
        }
        if let partner, set.partners[partner] == nil {
            throw ValidationError("no partner '\(partner)' in \(folder)/partners")
        }
        return set
    }
}
