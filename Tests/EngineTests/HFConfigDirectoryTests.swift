import Foundation
import XCTest
@testable import Engine

/// `tokenizer_config.json`, `generation_config.json` and a whole HF model directory.
final class HFConfigDirectoryTests: XCTestCase {
    private var dir = ""

    override func setUp() { dir = HFFixtures.makeTempDirectory() }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testTinyModelDirectoryLoadsEveryFile() throws {
        let m = try HFModelDirectory(path: HFFixtures.path("tiny-llama"))
        XCTAssertEqual(m.config.architecture, .llama)
        XCTAssertEqual(m.config.vocabSize, 6)
        XCTAssertEqual(m.config.kvHeadCount, 1)
        XCTAssertTrue(m.config.tieWordEmbeddings)
        let expected = HFFixtures.expectedTensors("tiny-llama/model.safetensors")
        XCTAssertEqual(Set(m.tensors.tensorNames), Set(expected.keys))
        let embed = try m.tensor("model.embed_tokens.weight")
        XCTAssertEqual(embed.type, .bf16)
        XCTAssertEqual(embed.shape, [6, 4])
        XCTAssertEqual(decodeFloats(embed), expectedFloats(expected["model.embed_tokens.weight"]!))
        XCTAssertNotNil(m.tokenizerJSON)

        let tc = try XCTUnwrap(m.tokenizerConfig)
        XCTAssertEqual(tc.chatTemplate, "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}", "from chat_template.jinja")
        XCTAssertEqual(tc.addBosToken, true)
        XCTAssertEqual(tc.addEosToken, false)
        XCTAssertEqual(tc.bosToken, "<s>", "AddedToken object")
        XCTAssertEqual(tc.eosToken, "</s>")
        XCTAssertNil(tc.padToken)
        XCTAssertNil(tc.modelMaxLength, "the 1e30 no-limit sentinel")

        let g = try XCTUnwrap(m.generationConfig)
        XCTAssertEqual(g.maxNewTokens, 32)
        XCTAssertEqual(g.temperature, 0.6)
        XCTAssertEqual(g.topK, 20)
        XCTAssertEqual(g.topP, 0.9)
        XCTAssertEqual(g.repetitionPenalty, 1.1)
        XCTAssertEqual(g.doSample, true)
        XCTAssertEqual(g.eosTokenIds, [2, 5])
        XCTAssertEqual(g.bosTokenId, 1)
        XCTAssertNil(g.numBeams)
        XCTAssertFalse(g.isGreedy)
    }

    func testChatTemplateListPicksDefaultAndKeepsOthers() throws {
        let json = #"{"chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}], "model_max_length": 131072, "eos_token": "<|im_end|>"}"#
        let tc = try HFTokenizerConfig(json: Data(json.utf8))
        XCTAssertEqual(tc.chatTemplate, "D")
        XCTAssertEqual(tc.namedChatTemplates["tool_use"], "T")
        XCTAssertEqual(tc.modelMaxLength, 131072)
        XCTAssertEqual(tc.eosToken, "<|im_end|>")
        XCTAssertThrowsError(try HFTokenizerConfig(json: Data(#"{"chat_template": 3}"#.utf8))) { error in
            XCTAssertTrue("\(error)".contains("chat_template"), "\(error)")
        }
    }

    func testGenerationConfigGreedyAndBadValues() throws {
        let g = try GenerationDefaults(json: Data(#"{"do_sample": false, "temperature": 0.7, "eos_token_id": 7, "num_beams": 1}"#.utf8))
        XCTAssertTrue(g.isGreedy, "do_sample false is greedy whatever the temperature")
        XCTAssertEqual(g.eosTokenIds, [7])
        XCTAssertEqual(g.numBeams, 1)
        XCTAssertThrowsError(try GenerationDefaults(json: Data(#"{"top_p": 1.5}"#.utf8))) { error in
            XCTAssertTrue("\(error)".hasPrefix("generation_config.json: top_p"), "\(error)")
        }
    }

    private func copy(_ names: [String]) throws {
        for n in names { try FileManager.default.copyItem(atPath: HFFixtures.path("tiny-llama/\(n)"), toPath: "\(dir)/\(n)") }
    }

    private func assertDirectoryError(_ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try HFModelDirectory(path: dir), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix(dir + ": "), text, file: file, line: line)
            for p in parts { XCTAssertTrue(text.contains(p), "\(text) lacks \(p)", file: file, line: line) }
        }
    }

    func testMissingFilesNameTheDirectoryAndFile() throws {
        assertDirectoryError(["no config.json"])
        try copy(["config.json"])
        assertDirectoryError(["no model.safetensors"])
        XCTAssertTrue(FileManager.default.createFile(atPath: "\(dir)/pytorch_model.bin", contents: Data([0])))
        assertDirectoryError(["pytorch_model.bin", "only safetensors"])
        try copy(["model.safetensors"])
        assertDirectoryError(["no tokenizer.json"])
        let m = try HFModelDirectory(path: dir, requireTokenizer: false)
        XCTAssertNil(m.tokenizerJSON)
        XCTAssertNil(m.tokenizerConfig)
        XCTAssertNil(m.generationConfig)
        XCTAssertThrowsError(try HFModelDirectory(path: dir + "/nope")) { error in
            XCTAssertEqual("\(error)", "\(dir)/nope: no such directory")
        }
    }
}
