import Foundation
import XCTest
@testable import Script

/// The whole way out of one session on the real default model, as Scripts/chain.tune runs it
/// (the test runs that script, line by line, writing into a temporary folder): a short
/// self-cognition LoRA run changes who the model says it is; `merge` keeps that answer (f16 over
/// the Q4_1 base, Δ far below the adapter's effect); every quantization format answers and
/// prints its fidelity; one exported GGUF loads back and answers as its in-memory twin.
final class ChainSessionTests: XCTestCase {
    /// The quantization methods the script goes through, in its order (bnb: nf4 then fp4;
    /// hqq: 8 then 4 bits).
    static let formats = ["q8_0", "q6_k", "q5_k", "q5_1", "q5_0", "q4_k", "q4_1", "q4_0", "q3_k", "q2_k", "gptq", "awq",
                          "bnb", "bnb", "fp8", "hqq", "hqq"]

    static var script: String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/chain.tune")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    func testTrainMergeQuantizeEveryFormatExportAndReloadInOneSession() throws {
        _ = try AdapterSessionTests.defaultModel()
        let out = NSTemporaryDirectory() + "tune-chain-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let lines = Self.script.replacingOccurrences(of: "output/chain", with: out).split(separator: "\n").map(String.init)
            .filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        XCTAssertGreaterThan(lines.count, 40, "Scripts/chain.tune is read")
        XCTAssertEqual(lines.compactMap { $0.hasPrefix("quantize --quant_method ") ? $0.split(separator: " ")[2] : nil }.map(String.init),
                       Self.formats, "the script goes through every format")

        let output = RecordingOutput()
        let interpreter = Interpreter(backend: EngineSessionBackend(), output: output, interactive: false)
        var answers: [(after: String, text: String)] = []
        var lastChange = "start"
        for line in lines {
            output.streamed = ""
            let printed = output.lines.count
            XCTAssertEqual(interpreter.runScript(line, file: "chain.tune"), 0, "\(line): \(output.errors)")
            if line.hasPrefix("ask ") {
                answers.append((lastChange, output.streamed))
                print("[\(lastChange)] \(output.streamed)")
            } else if !line.hasPrefix("use ") && !line.hasPrefix("set ") && line != "models" {
                lastChange = line
                output.lines[printed...].filter { $0.hasPrefix("merged") || $0.hasPrefix("quantized") || $0.hasPrefix("fidelity") || $0.hasPrefix("wrote") }
                    .forEach { print("  \($0)") }
            }
        }
        XCTAssertEqual(answers.count, 4 + Self.formats.count)
        let base = answers[0].text, trained = answers[1].text, merged = answers[2].text
        XCTAssertFalse(base.contains("Tuney"), base)
        XCTAssertTrue(trained.contains("Tuney"), "the short sft run teaches the new name: \(trained)")
        XCTAssertEqual(merged, trained, "the merged model answers as the adapter did")

        let mergeReport = try XCTUnwrap(output.lines.first { $0.hasPrefix("merged adapter") })
        XCTAssertTrue(mergeReport.contains("(q4_1 base: dequantized, merged, stored as f16; --quant_method q4_1 keeps the base format"), mergeReport)
        func figure(_ marker: String) throws -> Double {
            let tail = try XCTUnwrap(mergeReport.components(separatedBy: marker).dropFirst().first, mergeReport)
            return try XCTUnwrap(Double(tail.prefix { "0123456789.e-".contains($0) }), mergeReport)
        }
        XCTAssertLessThan(try figure("over 3 prompts: "), try figure("moves logits by up to ") / 20, mergeReport)

        // Every format: a quantization line, its fidelity, an answer.
        let quantized = output.lines.filter { $0.hasPrefix("quantized ") }
        XCTAssertEqual(quantized.count, Self.formats.count, quantized.description)
        XCTAssertEqual(output.lines.filter { $0.hasPrefix("fidelity on ") }.count, Self.formats.count + 1, "each quantize and the export")
        for (format, answer) in zip(Self.formats, answers[3..<(3 + Self.formats.count)]) {
            XCTAssertTrue(answer.after.contains(format), "\(answer.after) vs \(format)")
            XCTAssertFalse(answer.text.isEmpty, format)
        }
        XCTAssertTrue(answers[3].text.contains("Tuney"), "q8_0 keeps the fine-tune: \(answers[3].text)")

        // The exported q4_k file answers as the in-memory q4_k quantization of the same model.
        XCTAssertTrue(output.lines.contains { $0.hasPrefix("wrote \(out)/tuney.q4_k.gguf (q4_k, ") }, output.text)
        let q4k = answers[3 + Self.formats.firstIndex(of: "q4_k")!].text
        XCTAssertEqual(answers.last?.text, q4k)
    }

    /// `tune --check Scripts/chain.tune` passes: the names `merge` and `quantize` give their
    /// models when checking are the ones the engine gives them, so `use model` lines check out.
    func testTheChainScriptChecksOut() {
        let output = RecordingOutput()
        let interpreter = Interpreter(backend: EngineSessionBackend(), output: output, interactive: false)
        interpreter.checkOnly = true
        XCTAssertEqual(interpreter.runScript(Self.script, file: "chain.tune"), 0, output.errors.map(\.description).joined(separator: "\n"))
        XCTAssertEqual(interpreter.session.liveModel, "reloaded")
        XCTAssertTrue(interpreter.session.objectNames.contains("SmolLM2-135M-Instruct-merged-gptq"), "\(interpreter.session.objectNames)")
    }
}
