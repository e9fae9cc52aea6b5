import XCTest
@testable import Engine

/// The built-in templates against text assembled from ms-swift's template layouts
/// (Tests/Fixtures/templates/builtin.json), and the system-prompt precedence rule.
final class TemplateBuiltinTests: XCTestCase {
    func testBuiltinsMatchMsSwiftLayouts() throws {
        let fixture = try TemplateGoldenTests.load("builtin.json")
        guard case .string(let eos)? = fixture["eos_token"], case .dict(let templates)? = fixture["templates"] else {
            return XCTFail("builtin.json malformed")
        }
        XCTAssertEqual(Set(templates.keys), Set(BuiltinTemplates.names))
        for (name, casesValue) in templates.pairs {
            guard let builtin = BuiltinTemplates.named(name), case .array(let cases) = casesValue else {
                XCTFail("no built-in template \(name)"); continue
            }
            let template = try ChatTemplate(source: builtin.source)
            for c in cases {
                guard case .dict(let d) = c, case .string(let cname)? = d["name"], case .array(let messages)? = d["messages"],
                      case .string(let expected)? = d["expected"] else { XCTFail("malformed case"); continue }
                var context = TemplateDict()
                context["messages"] = .array(messages)
                context["eos_token"] = .string(eos)
                context["add_generation_prompt"] = .bool(true)
                let (text, spans) = try template.renderTracked(context: context)
                XCTAssertEqual(text, expected, "\(name) / \(cname)")
                guard case .array(let wantSpans)? = d["spans"] else { XCTFail("no spans"); continue }
                let scalars = Array(expected.unicodeScalars)
                func byteOffset(_ k: Int) -> Int { scalars[0..<k].reduce(0) { $0 + String($1).utf8.count } }
                let want: [Range<Int>] = wantSpans.compactMap {
                    guard case .array(let p) = $0, case .int(let a) = p[0], case .int(let b) = p[1] else { return nil }
                    return byteOffset(a)..<byteOffset(b)
                }
                XCTAssertEqual(spans, want, "\(name) / \(cname) spans")
            }
        }
    }

    func testBuiltinMetadata() throws {
        XCTAssertNil(BuiltinTemplates.named("no-such-template"))
        XCTAssertEqual(BuiltinTemplates.named("default")?.defaultSystem, "You are a helpful assistant.")
        XCTAssertEqual(BuiltinTemplates.named("qwen2_5")?.defaultSystem, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
        XCTAssertNil(BuiltinTemplates.named("chatml")?.defaultSystem)
        XCTAssertEqual(BuiltinTemplates.named("llama3")?.stopWords, ["<|eot_id|>"])
        XCTAssertTrue(BuiltinTemplates.named("qwen")?.stopWords.contains("<|im_end|>") ?? false)
    }

    func testSystemPrecedence() throws {
        let user = ChatMessage(role: "user", content: "Hi")
        let fromData = [ChatMessage(role: "system", content: "dataset system"), user]
        // A system message in the conversation wins over --system and the default.
        XCTAssertEqual(applySystemPrecedence(messages: fromData, systemArgument: "arg", defaultSystem: "default"), fromData)
        // --system wins over the template default.
        XCTAssertEqual(applySystemPrecedence(messages: [user], systemArgument: "arg", defaultSystem: "default"),
                       [ChatMessage(role: "system", content: "arg"), user])
        // The default applies when nothing else is given.
        XCTAssertEqual(applySystemPrecedence(messages: [user], systemArgument: nil, defaultSystem: "default"),
                       [ChatMessage(role: "system", content: "default"), user])
        XCTAssertEqual(applySystemPrecedence(messages: [user], systemArgument: nil, defaultSystem: nil), [user])

        // Through a built-in template: --system replaces qwen's default system text.
        let qwen = try XCTUnwrap(BuiltinTemplates.named("qwen"))
        let messages = applySystemPrecedence(messages: [user], systemArgument: "Be brief.", defaultSystem: qwen.defaultSystem)
        let out = try ChatTemplate(source: qwen.source).render(messages: messages, addGenerationPrompt: true)
        XCTAssertEqual(out, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")

        // A finished exchange: the reply and its end-of-turn text are the tracked span.
        let (text, spans) = try ChatTemplate(source: qwen.source).renderTracked(
            messages: messages + [ChatMessage(role: "assistant", content: "Hello")], addGenerationPrompt: false)
        XCTAssertEqual(spans.count, 1)
        let utf8 = Array(text.utf8)
        XCTAssertEqual(String(decoding: utf8[spans[0]], as: UTF8.self), "Hello<|im_end|>\n")
    }

    func testConvenienceRenderMatchesHuggingFaceContext() throws {
        // Same conversation as qwen3.json's tools_call case, built through ChatMessage.
        let fixture = try TemplateGoldenTests.load("qwen3.json")
        guard case .string(let source)? = fixture["source"], case .array(let cases)? = fixture["cases"],
              case .dict(let toolCase)? = cases.first(where: { if case .dict(let d) = $0 { return d["name"] == .string("tools_call") }; return false }),
              case .dict(let context)? = toolCase["context"], case .string(let expected)? = toolCase["expected"],
              case .array(let msgs)? = context["messages"], case .array(let tools)? = context["tools"] else {
            return XCTFail("qwen3.json has no tools_call case")
        }
        let messages: [ChatMessage] = msgs.map { m in
            guard case .dict(let d) = m, case .string(let role)? = d["role"], case .string(let content)? = d["content"] else {
                return ChatMessage(role: "?", content: "")
            }
            var toolCalls: [TemplateValue]? = nil
            if case .array(let t)? = d["tool_calls"] { toolCalls = t }
            var name: String? = nil, callId: String? = nil
            if case .string(let n)? = d["name"] { name = n }
            if case .string(let i)? = d["tool_call_id"] { callId = i }
            return ChatMessage(role: role, content: content, toolCalls: toolCalls, name: name, toolCallId: callId)
        }
        let out = try ChatTemplate(source: source).render(messages: messages, addGenerationPrompt: true,
                                                        bosToken: "", eosToken: "<|im_end|>", tools: tools)
        XCTAssertEqual(out, expected)
    }
}
