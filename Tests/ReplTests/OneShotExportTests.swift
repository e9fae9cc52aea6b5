import Engine
import Foundation
import XCTest

/// The export command lines run through the real `tune` binary on the default model, each
/// result loaded back and compared with what it should equal: a GGUF quantized by
/// `tune export --quant_method q4_k` against the same quantization in memory (same logits),
/// and the merges of `tune export --adapters DIR --merge_lora true` and
/// `tune merge-lora --adapters DIR` against the base with the adapter live (same greedy answer,
/// largest |Δlogit| far below the adapter's own effect). The adapter is trained by a one-shot
/// `tune sft` (two steps on the self-cognition data).
final class OneShotExportTests: XCTestCase {
    static func defaultModel() throws -> String {
        let path = TuneBinary.modelCache + "/models/HuggingFaceTB/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("the default model is missing at \(path); run Scripts/setup")
            throw CocoaError(.fileNoSuchFile)
        }
        return path
    }

    private func tune(_ arguments: [String], in dir: URL) throws -> TuneBinary.Result {
        let r = try TuneBinary.run(try TuneBinary.url, arguments, in: dir)
        XCTAssertEqual(r.status, 0, "tune \(arguments.joined(separator: " ")):\n\(r.stdout)\n\(r.stderr)")
        return r
    }

    private func logits(_ m: LlamaModel, _ ids: [Int]) throws -> [Float] {
        try m.forward(ids, cache: m.makeCache(capacity: ids.count), allLogits: true)
    }

    private func greedy(_ m: LoadedModel, _ question: String) throws -> String {
        var o = m.defaultOptions()
        o.sampling.temperature = 0
        o.maxNewTokens = 16
        return try m.respond(to: [ChatMessage(role: "user", content: question)], options: o).text
    }

    func testExportAndMergeLoraCommandLinesWriteModelsThatAnswerAsTheSession() throws {
        let model = try Self.defaultModel()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("tune-oneshot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        _ = try tune(["sft", "--model", model, "--dataset", "swift/self-cognition#16", "--model_name", "Tuney", "--model_author", "Lead",
                      "--max_steps", "2", "--per_device_train_batch_size", "4", "--gradient_accumulation_steps", "2",
                      "--learning_rate", "1e-3", "--output_dir", "out"], in: work)
        let runs = try FileManager.default.contentsOfDirectory(atPath: work.path + "/out")
        XCTAssertEqual(runs.count, 1)
        let checkpoint = work.path + "/out/" + runs[0] + "/checkpoint-2"

        // tune export --quant_method q4_k --output_dir X.gguf: the file is the in-memory quantization.
        let q4k = try tune(["export", "--model", model, "--quant_method", "q4_k", "--output_dir", "smol.q4_k.gguf"], in: work)
        XCTAssertTrue(q4k.stdout.contains("wrote smol.q4_k.gguf (q4_k, "), q4k.stdout)
        XCTAssertTrue(q4k.stdout.contains("fidelity on "), q4k.stdout)
        let base = try LoadedModel(location: .gguf(model))
        let file = try LoadedModel(location: .gguf(work.path + "/smol.q4_k.gguf"))
        let inMemory = try base.model.quantized(to: .q4_K)
        XCTAssertEqual(file.model.linearWeightTypes, inMemory.linearWeightTypes)
        let ids = base.promptIds(try base.renderPrompt([ChatMessage(role: "user", content: "Who are you?")]))
        XCTAssertEqual(try logits(file.model, ids), try logits(inMemory, ids))

        // The adapter live on the base: what both merges must answer as.
        let adapter = try PEFTAdapterFiles.read(directory: checkpoint, for: base.model)
        let adapted = LoadedModel(replacingModelOf: base, with: try base.model.adapted(by: adapter))
        let adaptedAnswer = try greedy(adapted, "Who are you?")
        XCTAssertNotEqual(adaptedAnswer, try greedy(base, "Who are you?"), "two steps at lr 1e-3 change the answer")
        let want = try logits(adapted.model, ids)
        let effect = zip(want, try logits(base.model, ids)).map { abs($0 - $1) }.max()!

        func checkMerged(_ dir: String, _ label: String) throws {
            let merged = try LoadedModel(location: .hfDirectory(dir))
            XCTAssertEqual(try greedy(merged, "Who are you?"), adaptedAnswer, label)
            let gap = zip(want, try logits(merged.model, ids)).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(gap, effect / 20, "\(label): largest |Δlogit| \(gap) against the adapter's effect \(effect)")
        }

        // tune export --adapters DIR --merge_lora true --output_dir D: an HF directory (f16 from a Q4_1 base).
        let exported = try tune(["export", "--model", model, "--adapters", checkpoint, "--merge_lora", "true", "--output_dir", "merged-hf"], in: work)
        XCTAssertTrue(exported.stdout.contains("merged adapter checkpoint-2 before export (q4_1 base: dequantized, merged, kept f32); max |Δlogit| against the unmerged adapter"),
                      exported.stdout)
        XCTAssertTrue(exported.stdout.contains("wrote merged-hf (HF model directory, float16, "), exported.stdout)
        try checkMerged(work.path + "/merged-hf", "export --merge_lora true")

        // tune merge-lora --model M --adapters DIR: ms-swift's default output is `<adapter dir>-merged`.
        let mergeLora = try tune(["merge-lora", "--model", model, "--adapters", checkpoint], in: work)
        XCTAssertTrue(mergeLora.stdout.contains("wrote \(checkpoint)-merged (HF model directory, float16, "), mergeLora.stdout)
        try checkMerged(checkpoint + "-merged", "merge-lora")

        // Without --model the adapter's args.json names it (load_args); to GGUF, one quantization after the f32 merge.
        let gguf = try tune(["export", "--adapters", checkpoint, "--merge_lora", "true", "--quant_method", "q8_0", "--output_dir", "merged.q8_0.gguf"], in: work)
        XCTAssertTrue(gguf.stdout.contains("wrote merged.q8_0.gguf (q8_0, "), gguf.stdout)
        let q8 = try LoadedModel(location: .gguf(work.path + "/merged.q8_0.gguf"))
        XCTAssertEqual(q8.model.linearWeightTypes, [.q8_0])
        XCTAssertEqual(try greedy(q8, "Who are you?").isEmpty, false)
    }
}
