import Foundation

/// One message of a conversation as chat templates see it (`message.role`,
/// `message.content`, ...). Optional fields are left out of the template's view when nil.
public struct ChatMessage: Equatable {
    public var role: String
    public var content: String
    public var reasoningContent: String?
    public var toolCalls: [TemplateValue]?
    public var name: String?
    public var toolCallId: String?
    /// Further keys, in order, after the ones above.
    public var extra: TemplateDict

    public init(role: String, content: String, reasoningContent: String? = nil, toolCalls: [TemplateValue]? = nil,
                name: String? = nil, toolCallId: String? = nil, extra: TemplateDict = TemplateDict()) {
        self.role = role
        self.content = content
        self.reasoningContent = reasoningContent
        self.toolCalls = toolCalls
        self.name = name
        self.toolCallId = toolCallId
        self.extra = extra
    }

    public var templateValue: TemplateValue {
        var d = TemplateDict()
        d["role"] = .string(role)
        d["content"] = .string(content)
        if let r = reasoningContent { d["reasoning_content"] = .string(r) }
        if let t = toolCalls { d["tool_calls"] = .array(t) }
        if let n = name { d["name"] = .string(n) }
        if let i = toolCallId { d["tool_call_id"] = .string(i) }
        for (k, v) in extra.pairs { d[k] = v }
        return .dict(d)
    }
}

/// A parsed chat template (a jinja2 subset, sandboxed and resource-limited), rendered the
/// way Hugging Face transformers renders `chat_template`.
public struct ChatTemplate {
    public let source: String
    public let limits: TemplateLimits
    private let body: [Stmt]

    public init(source: String, limits: TemplateLimits = .standard) throws {
        self.source = source
        self.limits = limits
        body = try ChatTemplate.onLargeStack {
            var lexer = TemplateLexer(source: source)
            var parser = TemplateParser(tokens: try lexer.tokenize(), maxDepth: limits.maxDepth)
            return try parser.parseTemplate()
        }
    }

    /// Renders with the given variables (`messages`, `add_generation_prompt`, ...).
    public func render(_ context: [String: TemplateValue]) throws -> String {
        var d = TemplateDict()
        for k in context.keys.sorted() { d[k] = context[k] }
        return try render(context: d)
    }

    /// Renders with an ordered context.
    public func render(context: TemplateDict) throws -> String {
        try renderTracked(context: context).text
    }

    /// Renders and also returns where the template's `{% generation %}` blocks put their
    /// output (the assistant replies, in templates written for assistant-only loss masks),
    /// as UTF-8 byte ranges of the text.
    public func renderTracked(context: TemplateDict) throws -> (text: String, generationSpans: [Range<Int>]) {
        var vars = ValueDict()
        for (k, v) in context.pairs { vars[k] = Value(v) }
        let body = self.body, limits = self.limits
        return try ChatTemplate.onLargeStack {
            let interpreter = TemplateInterpreter(context: vars, limits: limits)
            let text = try interpreter.render(body)
            return (text, interpreter.generationSpans)
        }
    }

    /// The context Hugging Face's `apply_chat_template` builds: `messages`, `tools` (none when
    /// absent), `add_generation_prompt`, `bos_token`, `eos_token`, then `extra`
    /// (for example `enable_thinking`, `date_string`).
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String = "", eosToken: String = "",
                       tools: [TemplateValue]? = nil, extra: [String: TemplateValue] = [:]) throws -> String {
        try render(context: ChatTemplate.context(messages: messages, addGenerationPrompt: addGenerationPrompt,
                                                 bosToken: bosToken, eosToken: eosToken, tools: tools, extra: extra))
    }

    /// `render(messages:...)` plus the `{% generation %}` spans (see `renderTracked(context:)`).
    public func renderTracked(messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String = "", eosToken: String = "",
                              tools: [TemplateValue]? = nil, extra: [String: TemplateValue] = [:]) throws
        -> (text: String, generationSpans: [Range<Int>]) {
        try renderTracked(context: ChatTemplate.context(messages: messages, addGenerationPrompt: addGenerationPrompt,
                                                        bosToken: bosToken, eosToken: eosToken, tools: tools, extra: extra))
    }

    static func context(messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String, eosToken: String,
                        tools: [TemplateValue]?, extra: [String: TemplateValue]) -> TemplateDict {
        var d = TemplateDict()
        d["messages"] = .array(messages.map(\.templateValue))
        d["tools"] = tools.map { .array($0) } ?? TemplateValue.none
        d["add_generation_prompt"] = .bool(addGenerationPrompt)
        d["bos_token"] = .string(bosToken)
        d["eos_token"] = .string(eosToken)
        for k in extra.keys.sorted() { d[k] = extra[k] }
        return d
    }

    /// Deeply nested templates recurse deeply; run on a thread whose stack is sized for the
    /// depth limit, whatever thread the caller is on. The threads are kept: making a thread
    /// with a large stack costs far more than a render.
    private static func onLargeStack<T>(_ body: @escaping () throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        LargeStackThreads.shared.run {
            box.result = Result { try body() }
            done.signal()
        }
        done.wait()
        return try box.result!.get()
    }
}

/// A few long-lived threads with 64 MiB stacks that run template work handed to them.
private final class LargeStackThreads: @unchecked Sendable {
    static let shared = LargeStackThreads(maxThreads: max(1, ProcessInfo.processInfo.activeProcessorCount))

    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var started = 0
    private var idle = 0
    private let maxThreads: Int

    private init(maxThreads: Int) { self.maxThreads = maxThreads }

    func run(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        if idle == 0 && started < maxThreads {
            started += 1
            let thread = Thread { [unowned self] in self.serve() }
            thread.stackSize = 64 << 20
            thread.name = "tune.template"
            thread.start()
        }
        condition.signal()
        condition.unlock()
    }

    private func serve() {
        while true {
            condition.lock()
            while jobs.isEmpty {
                idle += 1
                condition.wait()
                idle -= 1
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}

/// Carries a result back from the render thread; the semaphore orders the accesses.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
