import Foundation
import XCTest
@testable import Engine

/// `config.json` files as the model publishers ship them (Tests/Fixtures/hf/configs, sources
/// in the README) and the defaults transformers applies when a field is missing.
final class HFConfigTests: XCTestCase {
    private func config(_ name: String) throws -> ModelConfig {
        let path = HFFixtures.path("configs/\(name).json")
        return try ModelConfig(hfConfigJSON: FileManager.default.contents(atPath: path)!, source: path)
    }

    private func parse(_ json: String) throws -> ModelConfig {
        try ModelConfig(hfConfigJSON: Data(json.utf8), source: "test/config.json")
    }

    private func assertError(_ json: String, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(json), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("test/config.json: "), text, file: file, line: line)
            for p in parts { XCTAssertTrue(text.contains(p), "\(text) lacks \(p)", file: file, line: line) }
        }
    }

    func testSmolLM2() throws {
        let c = try config("SmolLM2-135M-Instruct")
        XCTAssertEqual(c, ModelConfig(architecture: .llama, vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536,
                                      layerCount: 30, headCount: 9, kvHeadCount: 3, headDim: 64, rmsNormEps: 1e-5,
                                      ropeTheta: 100000, ropeScaling: nil, maxPositions: 8192, tieWordEmbeddings: true,
                                      attentionBias: false, qkNorm: false, bosTokenId: 1, eosTokenIds: [2], padTokenId: 2))
    }

    func testQwen25HasQKVBiasAndTiedEmbeddings() throws {
        let c = try config("Qwen2.5-0.5B-Instruct")
        XCTAssertEqual(c, ModelConfig(architecture: .qwen2, vocabSize: 151936, hiddenSize: 896, intermediateSize: 4864,
                                      layerCount: 24, headCount: 14, kvHeadCount: 2, headDim: 64, rmsNormEps: 1e-6,
                                      ropeTheta: 1_000_000, maxPositions: 32768, tieWordEmbeddings: true,
                                      attentionBias: true, qkNorm: false, bosTokenId: 151643, eosTokenIds: [151645]))
    }

    func testQwen3HasQKNormAndWideHeads() throws {
        let c = try config("Qwen3-0.6B")
        XCTAssertEqual(c, ModelConfig(architecture: .qwen3, vocabSize: 151936, hiddenSize: 1024, intermediateSize: 3072,
                                      layerCount: 28, headCount: 16, kvHeadCount: 8, headDim: 128, rmsNormEps: 1e-6,
                                      ropeTheta: 1_000_000, maxPositions: 40960, tieWordEmbeddings: true,
                                      attentionBias: false, qkNorm: true, bosTokenId: 151643, eosTokenIds: [151645]))
    }

    func testLlama32HasLlama3RopeScalingAndSeveralEOS() throws {
        let c = try config("Llama-3.2-1B-Instruct")
        var rope = RopeScaling(kind: .llama3, factor: 32, originalMaxPositions: 8192)
        rope.lowFrequencyFactor = 1
        rope.highFrequencyFactor = 4
        XCTAssertEqual(c, ModelConfig(architecture: .llama, vocabSize: 128256, hiddenSize: 2048, intermediateSize: 8192,
                                      layerCount: 16, headCount: 32, kvHeadCount: 8, headDim: 64, rmsNormEps: 1e-5,
                                      ropeTheta: 500_000, ropeScaling: rope, maxPositions: 131072, tieWordEmbeddings: true,
                                      attentionBias: false, qkNorm: false, bosTokenId: 128000,
                                      eosTokenIds: [128001, 128008, 128009]))
    }

    func testMistral7Bv03() throws {
        let c = try config("Mistral-7B-v0.3")
        XCTAssertEqual(c, ModelConfig(architecture: .mistral, vocabSize: 32768, hiddenSize: 4096, intermediateSize: 14336,
                                      layerCount: 32, headCount: 32, kvHeadCount: 8, headDim: 128, rmsNormEps: 1e-5,
                                      ropeTheta: 1_000_000, maxPositions: 32768, tieWordEmbeddings: false,
                                      attentionBias: false, qkNorm: false, bosTokenId: 1, eosTokenIds: [2]))
    }

    func testMissingFieldsTakeTransformersDefaultsPerArchitecture() throws {
        let dims = #""vocab_size": 100, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4"#
        let llama = try parse(#"{"architectures": ["LlamaForCausalLM"], \#(dims)}"#)
        XCTAssertEqual(llama.kvHeadCount, 4)
        XCTAssertEqual(llama.headDim, 16)
        XCTAssertEqual(llama.rmsNormEps, 1e-6)
        XCTAssertEqual(llama.ropeTheta, 10000)
        XCTAssertEqual(llama.maxPositions, 2048)
        XCTAssertFalse(llama.tieWordEmbeddings)
        XCTAssertEqual(llama.bosTokenId, 1)
        XCTAssertEqual(llama.eosTokenIds, [2])
        XCTAssertNil(llama.padTokenId)

        let qwen3 = try parse(#"{"architectures": ["Qwen3ForCausalLM"], \#(dims)}"#)
        XCTAssertEqual(qwen3.headDim, 128)
        XCTAssertEqual(qwen3.maxPositions, 32768)
        XCTAssertNil(qwen3.bosTokenId)
        XCTAssertEqual(qwen3.eosTokenIds, [])
        XCTAssertTrue(qwen3.qkNorm)

        let qwen2 = try parse(#"{"model_type": "qwen2", \#(dims), "attention_bias": false}"#)
        XCTAssertTrue(qwen2.attentionBias, "Qwen2 always has q/k/v biases")
        let mistral = try parse(#"{"architectures": ["MistralForCausalLM"], \#(dims)}"#)
        XCTAssertEqual(mistral.maxPositions, 131072)
        let llamaBias = try parse(#"{"architectures": ["LlamaForCausalLM"], \#(dims), "attention_bias": true, "eos_token_id": null}"#)
        XCTAssertTrue(llamaBias.attentionBias)
        XCTAssertEqual(llamaBias.eosTokenIds, [])
    }

    func testRopeScalingKinds() throws {
        let dims = #""architectures": ["LlamaForCausalLM"], "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4"#
        let yarn = try parse(#"{\#(dims), "rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768, "beta_fast": 16, "beta_slow": 2, "attention_factor": 1.2}}"#)
        var expected = RopeScaling(kind: .yarn, factor: 4, originalMaxPositions: 32768)
        expected.betaFast = 16
        expected.betaSlow = 2
        expected.attentionFactor = 1.2
        XCTAssertEqual(yarn.ropeScaling, expected)
        XCTAssertEqual(try parse(#"{\#(dims), "rope_scaling": {"type": "linear", "factor": 2.0}}"#).ropeScaling,
                       RopeScaling(kind: .linear, factor: 2))
        XCTAssertEqual(try parse(#"{\#(dims), "rope_scaling": {"type": "dynamic", "factor": 3}}"#).ropeScaling,
                       RopeScaling(kind: .dynamic, factor: 3))
        XCTAssertNil(try parse(#"{\#(dims), "rope_scaling": {"rope_type": "default"}}"#).ropeScaling)
        // transformers 5 moves rope_theta into rope_parameters.
        let v5 = try parse(#"{\#(dims), "rope_parameters": {"rope_type": "default", "rope_theta": 500000.0}}"#)
        XCTAssertEqual(v5.ropeTheta, 500000)
        XCTAssertNil(v5.ropeScaling)
        let v5yarn = try parse(#"{\#(dims), "rope_scaling": null, "rope_parameters": {"rope_type": "yarn", "factor": 2.0, "rope_theta": 1000000.0}}"#)
        XCTAssertEqual(v5yarn.ropeScaling, RopeScaling(kind: .yarn, factor: 2))
        XCTAssertEqual(v5yarn.ropeTheta, 1_000_000)
        assertError(#"{\#(dims), "rope_scaling": {"rope_type": "longrope", "factor": 2}}"#, contains: ["longrope", "linear, dynamic, yarn, llama3"])
        assertError(#"{\#(dims), "rope_scaling": {"rope_type": "llama3", "factor": 8}}"#, contains: ["original_max_position_embeddings"])
        assertError(#"{\#(dims), "rope_scaling": {"type": "linear"}}"#, contains: ["factor"])
    }

    func testBadConfigsAreClearErrors() {
        let dims = #""vocab_size": 100, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4"#
        assertError(#"{"architectures": ["GPT2LMHeadModel"], \#(dims)}"#,
                    contains: ["GPT2LMHeadModel", "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM"])
        assertError(#"{"model_type": "gemma", \#(dims)}"#, contains: ["gemma", "not supported"])
        assertError(#"{\#(dims)}"#, contains: ["no architecture"])
        assertError(#"{"architectures": ["LlamaForCausalLM"], "vocab_size": 100}"#, contains: ["missing hidden_size"])
        assertError(#"{"architectures": ["LlamaForCausalLM"], \#(dims), "num_key_value_heads": 3}"#, contains: ["multiple"])
        assertError(#"{"architectures": ["LlamaForCausalLM"], "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": true, "num_attention_heads": 4}"#,
                    contains: ["num_hidden_layers must be a whole number"])
        assertError(#"{"architectures": ["LlamaForCausalLM"], \#(dims), "tie_word_embeddings": 1}"#, contains: ["tie_word_embeddings must be true or false"])
        assertError(#"{"architectures": ["LlamaForCausalLM"], \#(dims), "eos_token_id": "2"}"#, contains: ["eos_token_id"])
        assertError("[1, 2]", contains: ["JSON object"])
        assertError("{not json", contains: ["not valid JSON"])
    }
}
