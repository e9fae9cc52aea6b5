import Foundation

/// `run`, `history`, `save`, `exit`.
let sessionVerbs: [Verb] = [
    Verb(name: "run", group: .session, usage: "run FILE.tune",
         summary: "Run a script in this session (scripts may run scripts, \(Interpreter.maxRunDepth) deep at most).",
         handler: runRun),
    Verb(name: "history", group: .session, usage: "history", summary: "List what was typed in this session.",
         handler: runHistory),
    Verb(name: "save", group: .session, usage: "save FILE.tune",
         summary: "Write the session so far as a script that replays it.", handler: runSave),
    Verb(name: "exit", aliases: ["quit"], group: .session, usage: "exit [CODE]",
         summary: "Leave tune (a script stops here).", handler: runExit),
]

private func runRun(_ call: VerbCall) throws {
    guard call.words.count == 1, let word = call.words.first else {
        if call.words.isEmpty { throw call.error("run needs a script file", at: call.endLocation) }
        try call.requireNoWords(from: 1)
        return
    }
    let interp = call.interpreter
    guard interp.depth < Interpreter.maxRunDepth else {
        throw call.error("run is nested more than \(Interpreter.maxRunDepth) deep (does a script run itself?)",
                         at: word.location)
    }
    let path = call.resolvePath(word.text)
    guard let data = FileManager.default.contents(atPath: path) else {
        throw call.error("cannot read script '\(word.text)'", at: word.location)
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw call.error("script '\(word.text)' is not UTF-8 text", at: word.location)
    }
    interp.depth += 1
    defer { interp.depth -= 1 }
    if interp.runScript(text, file: path) > 0 { throw AlreadyReported() }
}

private func runHistory(_ call: VerbCall) throws {
    try call.requireNoWords()
    if call.checkOnly { return }
    let history = call.session.history
    let width = String(history.count).count
    for (i, entry) in history.enumerated() {
        let n = String(i + 1)
        let lines = entry.split(separator: "\n", omittingEmptySubsequences: false)
        call.print(String(repeating: " ", count: width - n.count) + n + "  " + lines[0])
        for more in lines.dropFirst() { call.print(String(repeating: " ", count: width + 2) + more) }
    }
}

private func runSave(_ call: VerbCall) throws {
    guard call.words.count == 1, let word = call.words.first else {
        if call.words.isEmpty { throw call.error("save needs a file name", at: call.endLocation) }
        try call.requireNoWords(from: 1)
        return
    }
    if call.checkOnly { return }
    let path = (word.text as NSString).expandingTildeInPath
    var text = "#!/usr/bin/env tune\n# saved by tune: replays the session\n"
    for entry in call.session.record { text += entry + "\n" }
    do {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw call.error("cannot write '\(word.text)': \(error.localizedDescription)", at: word.location)
    }
    call.print("saved \(call.session.record.count) statements to \(word.text)")
}

private func runExit(_ call: VerbCall) throws {
    var code: Int32 = 0
    if let word = call.words.first {
        guard let c = Int32(word.text), (0...255).contains(c) else {
            throw call.error("exit takes a number from 0 to 255, got '\(word.text)'", at: word.location)
        }
        code = c
        try call.requireNoWords(from: 1)
    }
    if call.checkOnly { return }
    call.interpreter.exitCode = code
}
