import Foundation
import Glibc
import Script

/// The ways in: each returns tune's exit status.
enum Modes {
    static var historyPath: String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".tune_history")
    }

    static func repl(backend: EngineBackend) -> Int32 {
        let output = ConsoleOutput()
        let interpreter = Interpreter(backend: backend, output: output, cancel: interruptFlag, interactive: true)
        let reader = EditlineReader(historyPath: historyPath, output: output, completer: Completer(interpreter: interpreter))
        Signals.catchInterrupts()
        output.line("tune \(Usage.version): help lists the commands, help NAME explains one; exit or Ctrl-D leaves")
        let loop = InputLoop(interpreter: interpreter, reader: reader, file: "<repl>",
                             stopsAtError: false, failureExitCode: 0)
        let session = interpreter.session
        loop.prompt = { InputLoop.prompt(for: session) }
        let code = loop.run()
        if interpreter.exitCode == nil { output.stream("\n") }
        return code
    }

    static func script(path: String?, presets: [String], check: Bool, backend: EngineBackend) -> Int32 {
        let output = ConsoleOutput()
        let interpreter = Interpreter(backend: backend, output: output, cancel: interruptFlag)
        interpreter.checkOnly = check
        if !presets.isEmpty {
            let parsed = ArgumentRegistry.shared.parseArguments(presets)
            if !parsed.errors.isEmpty {
                for e in parsed.errors { output.diagnostic(Diagnostic(e.description, at: nil)) }
                return 2
            }
            for name in parsed.order { interpreter.session.set(name, parsed.values[name]!, origin: .commandLine) }
        }
        guard let path else {
            let loop = InputLoop(interpreter: interpreter, reader: PlainReader(), file: "<stdin>",
                                 stopsAtError: !check, failureExitCode: 1)
            return loop.run()
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            output.diagnostic(Diagnostic("cannot read script '\(path)'", at: nil))
            return 2
        }
        guard let text = String(data: data, encoding: .utf8) else {
            output.diagnostic(Diagnostic("script '\(path)' is not UTF-8 text", at: nil))
            return 2
        }
        if !check, isatty(0) == 1, isatty(1) == 1 {
            // On a terminal a script may end in `chat`, and Ctrl-C stops the running verb
            // (which stops the script) instead of killing the process.
            interpreter.input = EditlineReader(historyPath: historyPath, output: output,
                                               completer: Completer(interpreter: interpreter))
            Signals.catchInterrupts()
        }
        let failures = interpreter.runScript(text, file: path)
        if check {
            output.line(failures == 0 ? "ok: \(path) checks out" : "\(path): \(failures) problem\(failures == 1 ? "" : "s") found")
        }
        if let code = interpreter.exitCode { return code }
        return failures > 0 ? 1 : 0
    }

    /// One statement from the process's arguments. Argument mistakes are usage errors (2),
    /// as with ms-swift's own argument parser; anything else that fails is 1.
    static func oneShot(words: [String], check: Bool, backend: EngineBackend) -> Int32 {
        let output = ConsoleOutput()
        let interpreter = Interpreter(backend: backend, output: output, cancel: interruptFlag)
        interpreter.checkOnly = check
        guard var statement = Statement.fromCommandLine(words) else { return 2 }
        // `tune infer --model M` without a dataset is a conversation: read it from the
        // terminal, or line by line from standard input.
        if !check {
            if isatty(0) == 1 {
                interpreter.input = EditlineReader(historyPath: historyPath, output: output,
                                                   completer: Completer(interpreter: interpreter))
                Signals.catchInterrupts()
            } else {
                interpreter.input = PlainReader()
            }
        }
        if statement.verb.hasPrefix("?") {
            statement = Parser.parse(words.joined(separator: " "), file: "<command line>").statements.first ?? statement
        }
        do {
            try interpreter.execute(statement)
        } catch let list as DiagnosticList {
            list.diagnostics.forEach(output.diagnostic)
            return list.diagnostics.allSatisfy(\.isArgumentError) ? 2 : 1
        } catch let d as Diagnostic {
            output.diagnostic(d)
            return d.isArgumentError ? 2 : 1
        } catch {
            output.diagnostic(Diagnostic("\(error)", at: statement.location))
            return 1
        }
        if check { output.line("ok: \(words[0]) and its arguments check out") }
        return interpreter.exitCode ?? 0
    }
}
