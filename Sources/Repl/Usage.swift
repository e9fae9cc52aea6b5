import Script

enum Usage {
    static let version = "0.1.0"

    static let text = """
    usage: tune                       interactive session (line editing, history, completion)
           tune FILE.tune [--NAME VALUE...]   run a script; flags preset session arguments
           tune - | COMMANDS | tune   run a script from standard input
           tune COMMAND --NAME VALUE...       one ms-swift command, then exit
                                      (COMMAND: \(Command.allCases.map(\.rawValue).joined(separator: " ")))
           tune help [TOPIC]          help on a command or argument, then exit
           tune --check FILE.tune | --check COMMAND --NAME VALUE...
                                      validate every statement and argument without running
           tune --version             version, engine and BLAS core
           tune --help                this text

    exit status: 0 success, 1 a command failed, 2 usage error
    """

    static func versionLines(_ backend: EngineBackend) -> [String] {
        ["tune \(version)"] + backend.engineDescription
    }
}
