import Foundation

/// `ask`, `chat`, `tokenize`, `render`.
let generationVerbs: [Verb] = [
    Verb(name: "ask", group: .generation, usage: "ask [--GENERATION_FLAG VALUE...] TEXT...",
         summary: "One answer from the live model (and adapter), streamed; flags such as --temperature apply to this call.",
         changesSession: true, handler: runAsk),
    Verb(name: "chat", group: .generation, usage: "chat",
         summary: "Talk with the live model; /exit leaves, /clear forgets, /system TEXT sets the system prompt, /reset both.",
         handler: runChat),
    Verb(name: "tokenize", group: .generation, usage: "tokenize TEXT...",
         summary: "Show the token ids and pieces the live model's tokenizer makes of TEXT.", handler: runTokenize),
    Verb(name: "render", group: .generation, usage: "render [TEXT...]  |  render dataset NAME [ROW]",
         summary: "Show the chat template applied to TEXT, a dataset row or the chat so far: token boundaries and which tokens carry loss.",
         handler: runRender),
]

/// Leading `--flag value` words (infer's arguments), then the text.
private func splitFlags(_ call: VerbCall) throws -> (ResolvedArguments, String, SourceLocation) {
    var i = 0
    var flagWords: [ExpandedWord] = []
    while i < call.words.count, call.words[i].isFlag {
        flagWords.append(call.words[i])
        i += 1
        // A flag's value is the next word (these calls take one-word generation settings).
        if i < call.words.count, !call.words[i].isFlag, i + 1 < call.words.count {
            flagWords.append(call.words[i])
            i += 1
        }
    }
    let parsed = FlagWords.parse(flagWords, command: .infer)
    try call.report(argumentErrors: parsed.errors)
    let text = call.words[i...].map(\.text).joined(separator: " ")
    let place = i < call.words.count ? call.words[i].location : call.endLocation
    return (call.interpreter.resolved(for: .infer, flags: parsed.dictionary), text, place)
}

/// The system message from the session's `system` argument, if any.
func systemMessages(_ args: ResolvedArguments) -> [ChatMessage] {
    guard let s = args.string("system"), !s.isEmpty else { return [] }
    return [ChatMessage(role: "system", content: s)]
}

private func runAsk(_ call: VerbCall) throws {
    let (args, text, place) = try splitFlags(call)
    guard !text.isEmpty else { throw call.error("ask needs a question, e.g. ask \"Who are you?\"", at: place) }
    let model = try call.requireModel()
    if call.checkOnly { return }
    let messages = systemMessages(args) + [ChatMessage(role: "user", content: text)]
    _ = try generateAnswer(call, model: model.handle, messages: messages, arguments: args)
}

/// Streams one answer and ends its line; a Ctrl-C stop is reported, not an error.
func generateAnswer(_ call: VerbCall, model: ModelHandle, messages: [ChatMessage],
                    arguments: ResolvedArguments) throws -> Generation {
    let out = call.output
    var sawText = false
    let result = try call.backend.generate(
        model: model, adapter: call.session.adapter?.handle, messages: messages, arguments: arguments,
        cancel: call.interpreter.cancel) { piece in
            sawText = true
            out.stream(piece)
        }
    if !sawText && !result.text.isEmpty { out.stream(result.text) }
    out.stream("\n")
    if result.stopReason == .cancelled { out.line("[stopped]") }
    if out.isTerminal, result.seconds > 0 {
        let rate = Double(result.generatedTokens) / result.seconds
        out.line(String(format: "[%d tokens, %.1f tokens/s]", result.generatedTokens, rate))
    }
    return result
}

private func runTokenize(_ call: VerbCall) throws {
    let text = call.words.map(\.text).joined(separator: " ")
    guard !text.isEmpty else { throw call.error("tokenize needs some text", at: call.endLocation) }
    let model = try call.requireModel()
    if call.checkOnly { return }
    let pieces = try call.backend.tokenize(model: model.handle, text: text)
    TextTable.print(header: ["id", "piece"], rows: pieces.map { [String($0.id), visible($0.piece)] }, to: call.print)
    call.print("\(pieces.count) tokens")
}

/// `render dataset NAME [ROW]`: the dataset and row index, or nil for text.
private func datasetRow(_ call: VerbCall) throws -> (DatasetHandle, Int)? {
    let w = call.words
    guard w.count >= 2, w[0].text == "dataset", !w[0].isQuoted else { return nil }
    guard let dataset = call.session.datasets.first(where: { $0.name == w[1].text }) else {
        let near = Suggest.nearest(w[1].text, among: call.session.datasets.map(\.name))
        throw call.error("no dataset is called '\(w[1].text)'" + (near.first.map { "; did you mean '\($0)'?" } ?? ""),
                         at: w[1].location)
    }
    var row = 0
    if w.count > 2 {
        guard let r = Int(w[2].text), r >= 0 else {
            throw call.error("a row number counts from 0, got '\(w[2].text)'", at: w[2].location)
        }
        row = r
        try call.requireNoWords(from: 3)
    }
    return (dataset.handle, row)
}

private func runRender(_ call: VerbCall) throws {
    let model = try call.requireModel()
    let row = try datasetRow(call)
    let text = call.words.map(\.text).joined(separator: " ")
    if call.checkOnly { return }
    let args = call.interpreter.resolved(for: .sft, flags: [:])
    var messages = call.session.conversation
    if let (dataset, index) = row {
        messages = systemMessages(args) + (try call.backend.datasetRow(dataset, index: index))
    } else if !text.isEmpty {
        messages = systemMessages(args) + [ChatMessage(role: "user", content: text)]
    }
    guard !messages.isEmpty else {
        throw call.error("render needs some text, or a conversation from chat", at: call.endLocation)
    }
    let rendered = try call.backend.render(model: model.handle, messages: messages, arguments: args)
    call.print(rendered.text)
    call.print("tokens (| between tokens, [..] carries loss):")
    var line = ""
    for t in rendered.tokens {
        let piece = visible(t.piece)
        line += (line.isEmpty ? "" : "|") + (t.carriesLoss ? "[" + piece + "]" : piece)
    }
    call.print(line)
    let loss = rendered.tokens.filter(\.carriesLoss).count
    call.print("\(rendered.tokens.count) tokens, \(loss) carry loss (loss_scale \(args.value("loss_scale")?.render ?? "default"))")
}

/// Control characters shown as escapes so token pieces stay on one line.
func visible(_ piece: String) -> String {
    var out = ""
    for u in piece.unicodeScalars {
        switch u {
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default: out.unicodeScalars.append(u)
        }
    }
    return out
}

private func runChat(_ call: VerbCall) throws {
    try call.requireNoWords()
    let model = try call.requireModel()
    guard let input = call.interpreter.input else {
        throw call.error("chat needs a terminal or standard input to read from; in a script file use ask")
    }
    if call.checkOnly { return }
    try ChatMode(call: call, model: model.handle, input: input).run()
}
