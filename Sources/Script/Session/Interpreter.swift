import Foundation

/// Runs statements against a session: fills in `${NAME}`, finds the verb, reports problems.
public final class Interpreter {
    public static let maxRunDepth = 16

    public let session: Session
    public let backend: EngineBackend
    public let output: SessionOutput
    /// Ctrl-C raises it; long verbs pass it to the backend.
    public let cancel: CancellationFlag
    /// Where `chat` reads from (the terminal or standard input); nil in a script file.
    public var input: LineReader?
    /// True at the REPL: `set` is recorded as typed, `stream` defaults to true.
    public var interactive: Bool
    /// Parse and validate only: engine work is skipped, every error is reported.
    public var checkOnly = false
    /// Set by `exit`: the code to leave with.
    public internal(set) var exitCode: Int32?

    let verbs = VerbTable.standard
    var depth = 0
    /// The directory of the script being run, for `run` with a relative path.
    var scriptDirectory: String?
    var scriptFile: String?

    public init(session: Session = Session(), backend: EngineBackend, output: SessionOutput,
                cancel: CancellationFlag = CancellationFlag(), interactive: Bool = false) {
        self.session = session
        self.backend = backend
        self.output = output
        self.cancel = cancel
        self.interactive = interactive
    }

    /// Names a verb knows: for completion.
    public var verbNames: [String] { verbs.names }

    /// Runs one statement and prints its problems. Returns false when it failed.
    @discardableResult
    public func perform(_ statement: Statement) -> Bool {
        do {
            try execute(statement)
            return true
        } catch let list as DiagnosticList {
            list.diagnostics.forEach(output.diagnostic)
        } catch let d as Diagnostic {
            output.diagnostic(d)
        } catch is AlreadyReported {
        } catch {
            output.diagnostic(Diagnostic("\(error)", at: statement.location))
        }
        return false
    }

    /// Runs one statement; problems are thrown (`Diagnostic` or `DiagnosticList`).
    public func execute(_ statement: Statement) throws {
        guard let verb = verbs.verb(statement.verb) else { throw unknownVerb(statement) }
        let words = try expand(statement.arguments)
        cancel.reset()
        try verb.handler(VerbCall(statement: statement, interpreter: self, words: words))
        if verb.changesSession { session.record.append(statement.text) }
    }

    private func unknownVerb(_ statement: Statement) -> Diagnostic {
        let name = statement.verb
        if let spec = ArgumentRegistry.shared.spec(name), spec.kind == .argument {
            let rest = statement.arguments.map(\.source).joined(separator: " ")
            return Diagnostic("'\(name)' is an argument, not a command; to change it write: set \(spec.name)"
                + (rest.isEmpty ? " VALUE" : " " + rest), at: statement.location)
        }
        let near = NameSuggester.suggestions(for: name, among: verbs.names)
        var message = "unknown command '\(name)'"
        if let best = near.first { message += "; did you mean '\(best)'?" } else { message += " (type help for the list)" }
        return Diagnostic(message, at: statement.location)
    }

    /// Fills in `${NAME}`: a session argument, else an environment variable. An unquoted
    /// `${NAME}` holding a list becomes one word per item.
    func expand(_ words: [Word]) throws -> [ExpandedWord] {
        var out: [ExpandedWord] = []
        var errors: [Diagnostic] = []
        for word in words {
            if word.isBareVariable, case .variable(let name, _) = word.parts[0],
               case .list(let items)? = session.value(canonical(name))
            {
                out += items.flatMap(\.words).map { ExpandedWord(text: $0, location: word.location, isQuoted: true) }
                continue
            }
            var text = ""
            for part in word.parts {
                switch part {
                case .text(let t): text += t
                case .variable(let name, let loc):
                    if let v = variable(name) { text += v } else {
                        errors.append(Diagnostic(
                            "'${\(name)}' is not set: no session argument or environment variable has that name",
                            at: loc))
                    }
                }
            }
            let hasVariable = word.parts.contains { if case .variable = $0 { return true } else { return false } }
            out.append(ExpandedWord(text: text, location: word.location, isQuoted: word.isQuoted || hasVariable))
        }
        if !errors.isEmpty { throw DiagnosticList(errors) }
        return out
    }

    private func canonical(_ name: String) -> String { ArgumentRegistry.shared.spec(name)?.name ?? name }

    func variable(_ name: String) -> String? {
        if let v = session.value(canonical(name)) { return v.words.joined(separator: " ") }
        return ProcessInfo.processInfo.environment[name]
    }

    /// Runs a whole script text. Returns the number of failed statements (0 = success); a
    /// script stops at the first failure unless checking.
    @discardableResult
    public func runScript(_ text: String, file: String) -> Int {
        let previous = (scriptDirectory, scriptFile)
        scriptDirectory = (file.hasPrefix("<") ? nil : (file as NSString).deletingLastPathComponent)
        scriptFile = file
        defer { (scriptDirectory, scriptFile) = previous }
        let parsed = Parser.parse(text, file: file)
        parsed.diagnostics.forEach(output.diagnostic)
        var failures = parsed.diagnostics.count
        if failures > 0 && !checkOnly { return failures }
        for statement in parsed.statements {
            if !perform(statement) {
                failures += 1
                if !checkOnly { break }
            }
            if exitCode != nil && !checkOnly { break }
        }
        return failures
    }
}

/// Thrown by `run` when a nested statement failed and has already printed its problem.
struct AlreadyReported: Error {}
