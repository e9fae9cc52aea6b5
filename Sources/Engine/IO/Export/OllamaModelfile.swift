import Foundation

/// An Ollama `Modelfile` for an exported GGUF: `FROM ./<file>.gguf`, a Go-template `TEMPLATE`
/// equivalent to the model's chat template, `PARAMETER stop` for its stop words, sampling
/// `PARAMETER`s from its generation defaults, and `SYSTEM` for a default system prompt.
///
/// Supported chat templates: ChatML (`<|im_start|>role\n…<|im_end|>\n`) and Llama 3
/// (`<|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>`). The model's template is
/// recognised by rendering probe conversations with it and comparing with each layout; any
/// other template is refused with an error naming the supported ones.
public enum OllamaModelfile {
    enum Layout: String { case chatml, llama3 }

    static func expected(_ layout: Layout, _ messages: [ChatMessage], bos: String) -> [String] {
        switch layout {
        case .chatml:
            let body = messages.map { "<|im_start|>\($0.role)\n\($0.content)<|im_end|>\n" }.joined() + "<|im_start|>assistant\n"
            return [body, bos + body]
        case .llama3:
            let body = messages.map { "<|start_header_id|>\($0.role)<|end_header_id|>\n\n\($0.content)<|eot_id|>" }.joined()
                + "<|start_header_id|>assistant<|end_header_id|>\n\n"
            return [body, bos + body]
        }
    }

    static func goTemplate(_ layout: Layout) -> String {
        switch layout {
        case .chatml:
            return "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"
        case .llama3:
            return "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>\n{{- end }}<|start_header_id|>assistant<|end_header_id|>\n\n"
        }
    }

    static func layoutStopWord(_ layout: Layout) -> String {
        layout == .chatml ? "<|im_end|>" : "<|eot_id|>"
    }

    /// The layout of `model`'s chat template and the system prompt it inserts when none is given.
    static func recognise(_ model: LoadedModel) throws -> (Layout, defaultSystem: String?) {
        let probe = [ChatMessage(role: "system", content: "S1"), ChatMessage(role: "user", content: "U1"),
                     ChatMessage(role: "assistant", content: "A1"), ChatMessage(role: "user", content: "U2")]
        let rendered = try? model.renderPrompt(probe)
        for layout in [Layout.chatml, .llama3] where rendered.map(expected(layout, probe, bos: model.bosToken).contains) ?? false {
            let user = [ChatMessage(role: "user", content: "U1")]
            let bare = try model.renderPrompt(user)
            if expected(layout, user, bos: model.bosToken).contains(bare) { return (layout, nil) }
            // A template that inserts its own system prompt: find it between the system markers.
            let marker = "\u{1}SYSTEM\u{1}"
            let withMarker = expected(layout, [ChatMessage(role: "system", content: marker)] + user, bos: model.bosToken)
            for shape in withMarker {
                let parts = shape.components(separatedBy: marker)
                if parts.count == 2, bare.hasPrefix(parts[0]), bare.hasSuffix(parts[1]), bare.count >= parts[0].count + parts[1].count {
                    let system = String(bare.dropFirst(parts[0].count).dropLast(parts[1].count))
                    return (layout, system)
                }
            }
        }
        throw ModelError("the model's chat template (\(model.templateName)) has no Ollama equivalent here; supported: ChatML (<|im_start|>) and Llama 3 (<|start_header_id|>) layouts")
    }

    /// A Modelfile string argument: triple-quoted unless it is one plain word.
    static func quoted(_ s: String) throws -> String {
        guard !s.contains("\"\"\"") else { throw ModelError("cannot put text containing \"\"\" in a Modelfile: \(s.prefix(40))") }
        return "\"\"\"" + s + "\"\"\""
    }

    static func number(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : "\(d)"
    }

    /// The Modelfile text for `model` written as `ggufFileName` in the same directory.
    public static func text(for model: LoadedModel, ggufFileName: String) throws -> String {
        let (layout, templateSystem) = try recognise(model)
        var lines = ["FROM ./\(ggufFileName)", "", "TEMPLATE \(try quoted(goTemplate(layout)))", ""]
        var stops: [String] = []
        let eos = model.tokenizer.eosId.map { model.tokenizer.decode([$0]) } ?? ""
        for s in [layoutStopWord(layout)] + model.stopWords + [eos]
            where !s.isEmpty && !stops.contains(s) { stops.append(s) }
        for s in stops { lines.append("PARAMETER stop \(try quoted(s))") }
        if let g = model.generationDefaults {
            if g.isGreedy {
                lines.append("PARAMETER temperature 0")
            } else if let t = g.temperature {
                lines.append("PARAMETER temperature \(number(t))")
            }
            if let p = g.topP { lines.append("PARAMETER top_p \(number(p))") }
            if let k = g.topK { lines.append("PARAMETER top_k \(k)") }
            if let r = g.repetitionPenalty { lines.append("PARAMETER repeat_penalty \(number(r))") }
            if let n = g.maxNewTokens { lines.append("PARAMETER num_predict \(n)") }
        }
        if let system = model.defaultSystem ?? templateSystem, !system.isEmpty {
            lines += ["", "SYSTEM \(try quoted(system))"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes `Modelfile` beside `ggufPath`; returns its path.
    @discardableResult
    public static func write(for model: LoadedModel, ggufPath: String) throws -> String {
        let text = try text(for: model, ggufFileName: (ggufPath as NSString).lastPathComponent)
        let path = parentDirectory(of: ggufPath) + "/Modelfile"
        try writeAtomically(to: path) { try $0.write(text) }
        return path
    }
}
