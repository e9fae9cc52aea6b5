import Foundation

/// A word after `${NAME}` is filled in.
struct ExpandedWord {
    var text: String
    var location: SourceLocation
    var isQuoted: Bool

    /// `--name` (not quoted; a negative number is a value).
    var isFlag: Bool { !isQuoted && ArgumentRegistry.isFlag(text) }
}

/// One running statement, handed to a verb's handler.
final class VerbCall {
    let statement: Statement
    let interpreter: Interpreter
    let words: [ExpandedWord]

    init(statement: Statement, interpreter: Interpreter, words: [ExpandedWord]) {
        self.statement = statement
        self.interpreter = interpreter
        self.words = words
    }

    var session: Session { interpreter.session }
    var backend: EngineBackend { interpreter.backend }
    var output: SessionOutput { interpreter.output }
    var checkOnly: Bool { interpreter.checkOnly }
    var location: SourceLocation { statement.location }
    var registry: ArgumentRegistry { .shared }

    func print(_ text: String) { output.line(text) }

    func error(_ message: String, at location: SourceLocation? = nil) -> Diagnostic {
        Diagnostic(message, at: location ?? self.location)
    }

    /// The end of the statement, for "missing word" errors.
    var endLocation: SourceLocation {
        guard let last = words.last else {
            var loc = location
            loc.column += statement.verb.count + 1
            return loc
        }
        var loc = last.location
        loc.column += last.text.count + 1
        return loc
    }

    func requireNoWords(from index: Int = 0) throws {
        if words.count > index {
            throw error("'\(statement.verb)' takes no more words; got '\(words[index].text)'", at: words[index].location)
        }
    }

    /// Argument problems stop the statement, unless `ignore_args_error` is on: then they are
    /// warnings and the statement goes on with the good arguments.
    func report(argumentErrors: [Diagnostic]) throws {
        guard !argumentErrors.isEmpty else { return }
        if session.ignoresArgumentErrors {
            for d in argumentErrors { output.diagnostic(d.asWarning) }
        } else {
            throw DiagnosticList(argumentErrors)
        }
    }

    /// The live model, or an error saying how to get one.
    func requireModel() throws -> Session.Object<ModelHandle> {
        guard let model = session.model else {
            throw error("no model is loaded; load one first with: load model PATH")
        }
        return model
    }

    /// Where a relative path points: beside the running script, else the working directory.
    func resolvePath(_ path: String) -> String {
        if path.hasPrefix("/") || path.hasPrefix("~") { return (path as NSString).expandingTildeInPath }
        if let dir = interpreter.scriptDirectory {
            let candidate = (dir as NSString).appendingPathComponent(path)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return path
    }
}
