import XCTest
@testable import Engine

/// Renders the real chat templates over the conversations in Tests/Fixtures/templates/*.json
/// and compares with what Python jinja2 (set up as HF transformers does) produced.
final class TemplateGoldenTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/templates")

    static func load(_ name: String) throws -> TemplateDict {
        let text = try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
        guard case .dict(let d) = try TemplateValue(jsonText: text) else {
            throw NSError(domain: "fixture", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(name) is not a JSON object"])
        }
        return d
    }

    private func checkGoldens(_ file: String) throws {
        let fixture = try Self.load(file)
        guard case .string(let source)? = fixture["source"], case .array(let cases)? = fixture["cases"] else {
            return XCTFail("\(file): missing source or cases")
        }
        let template = try ChatTemplate(source: source)
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            guard case .dict(let d) = c, case .string(let name)? = d["name"], case .dict(let context)? = d["context"] else {
                XCTFail("\(file): malformed case"); continue
            }
            if case .string(let expected)? = d["expected"] {
                do {
                    let got = try template.render(context: context)
                    XCTAssertEqual(got, expected, "\(file) case \(name)")
                } catch {
                    XCTFail("\(file) case \(name): \(error)")
                }
            } else if case .dict(let err)? = d["error"], case .string(let message)? = err["message"] {
                XCTAssertThrowsError(try template.render(context: context), "\(file) case \(name)") { e in
                    guard let te = e as? TemplateError else { return XCTFail("\(file) case \(name): \(e) is not a TemplateError") }
                    if err["raised"] == .bool(true) {
                        XCTAssertEqual(te.kind, .raised, "\(file) case \(name)")
                        XCTAssertEqual(te.message, message, "\(file) case \(name)")
                    }
                    XCTAssertGreaterThan(te.line, 0, "\(file) case \(name): error has no position")
                }
            } else {
                XCTFail("\(file) case \(name): neither expected nor error")
            }
        }
    }

    func testSmolLM2() throws { try checkGoldens("smollm2.json") }
    func testQwen25() throws { try checkGoldens("qwen2_5.json") }
    func testQwen3() throws { try checkGoldens("qwen3.json") }
    func testLlama31() throws { try checkGoldens("llama3_1.json") }
    func testLlama32() throws { try checkGoldens("llama3_2.json") }
    func testMistralV03() throws { try checkGoldens("mistral_v0_3.json") }
    func testMistralNemo() throws { try checkGoldens("mistral_nemo.json") }
    func testMixtralV01() throws { try checkGoldens("mixtral_v0_1.json") }

    /// Every chat template of huggingface.js's jinja end-to-end suite, with its example data.
    func testHuggingFaceJSTemplates() throws {
        let fixture = try Self.load("hf_js_e2e.json")
        guard case .array(let cases)? = fixture["cases"] else { return XCTFail("hf_js_e2e.json: no cases") }
        XCTAssertGreaterThan(cases.count, 50)
        for c in cases {
            guard case .dict(let d) = c, case .string(let name)? = d["name"], case .string(let source)? = d["source"],
                  case .dict(let context)? = d["context"] else { XCTFail("malformed case"); continue }
            do {
                let template = try ChatTemplate(source: source)
                if case .string(let expected)? = d["expected"] {
                    XCTAssertEqual(try template.render(context: context), expected, name)
                } else {
                    XCTAssertThrowsError(try template.render(context: context), name)
                }
            } catch let e as TemplateError where d["expected"] == nil {
                _ = e   // jinja2 refused it too (at parse time here)
            } catch {
                XCTFail("\(name): \(error)")
            }
        }
    }

    /// Renders from many threads at once give the same text as one at a time.
    func testConcurrentRendersAgree() throws {
        let fixture = try Self.load("qwen3.json")
        guard case .string(let source)? = fixture["source"], case .array(let cases)? = fixture["cases"] else { return XCTFail() }
        let template = try ChatTemplate(source: source)
        let work: [(TemplateDict, String)] = cases.compactMap {
            guard case .dict(let d) = $0, case .dict(let c)? = d["context"], case .string(let e)? = d["expected"] else { return nil }
            return (c, e)
        }
        let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: work.count * 4)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: work.count * 4) { i in
            let (context, expected) = work[i % work.count]
            results[i] = (try? template.render(context: context)) == expected
        }
        XCTAssertTrue(results.allSatisfy { $0 })
    }

    /// The SmolLM2 fixture's source must be the template inside the real model file.
    func testSmolLM2SourceMatchesModelFile() throws {
        let fromModel = try GGUFTokenizerData(gguf: GGUFFile(path: TestPaths.defaultModel())).chatTemplate
        guard case .string(let source)? = try Self.load("smollm2.json")["source"] else { return XCTFail("no source") }
        XCTAssertEqual(fromModel, source)
    }

    /// Llama 3.2 fills in today's date through strftime_now when no date_string is given.
    func testLlama32UsesTodaysDate() throws {
        guard case .string(let source)? = try Self.load("llama3_2.json")["source"] else { return XCTFail("no source") }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "dd MMM yyyy"
        let before = formatter.string(from: Date())
        let out = try ChatTemplate(source: source).render(messages: [ChatMessage(role: "user", content: "Hi")],
                                                         addGenerationPrompt: true, bosToken: "<|begin_of_text|>")
        let after = formatter.string(from: Date())
        XCTAssertTrue(out.contains("Today Date: \(before)\n") || out.contains("Today Date: \(after)\n"), out)
    }
}
